/**
 * The local receiver's HTTP server (node:http, no framework), usable in-process
 * by tests and the benchmark: `const r = await startReceiver({ port: 0, secret })`,
 * point a webhook at `r.url`, read `r.deliveries`, then `await r.close()`.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { formatDeliveryJson, formatDeliveryPretty } from './receiver-format';
import { DEFAULT_RECEIVER_OPTIONS, ReceiverOptions } from './receiver-options';
import { assertUsableSecret, SignatureReport, verifySignatures } from './receiver-signatures';
import { seededRandom } from './seeded-random';

/** Bodies above this are answered 413 and not recorded. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ReceivedDelivery {
  /** 1, 2, … in order of arrival. */
  seq: number;
  received_at: string;
  method: string;
  path: string;
  /** X-ATLAS-Event */
  event: string | null;
  /** webhook-id: the event id, stable across retries. */
  webhook_id: string | null;
  /** X-ATLAS-Delivery */
  delivery_id: string | null;
  /** X-ATLAS-Attempt */
  attempt: number | null;
  webhook_timestamp: string | null;
  /** Every request header, lower-case names, repeated ones joined with ", ". */
  headers: Record<string, string>;
  size: number;
  raw_body: string;
  /** The parsed body; null when it is not JSON (see json_error). */
  body: unknown;
  json_error: string | null;
  signatures: SignatureReport;
  response: { status: number; delay_ms: number; simulated_failure: boolean };
}

export interface StartReceiverOptions extends Partial<ReceiverOptions> {
  /** What to print per delivery: the readable form, one JSON line, or nothing (default). */
  output?: 'pretty' | 'json' | 'none';
  /** Where printed text goes (default: process.stdout). */
  write?: (text: string) => void;
  /** Called for each delivery as it arrives (before the answer). */
  onDelivery?: (delivery: ReceivedDelivery) => void;
  /** Keep every delivery in `deliveries` (default true; a long benchmark may turn it off). */
  keepDeliveries?: boolean;
}

export interface RunningReceiver {
  port: number;
  host: string;
  /** http://host:port/ */
  url: string;
  deliveries: ReceivedDelivery[];
  /** How many deliveries arrived (also when they are not kept). */
  count(): number;
  close(): Promise<void>;
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, extra: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function parseAttempt(raw: string | undefined): number | null {
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** Starts listening; resolves once the port is bound (rejects on EADDRINUSE and the like). */
export async function startReceiver(options: StartReceiverOptions = {}): Promise<RunningReceiver> {
  const opts: ReceiverOptions = { ...DEFAULT_RECEIVER_OPTIONS, ...stripUndefined(options) };
  if (opts.secret) assertUsableSecret(opts.secret);
  const output = options.output ?? 'none';
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const keep = options.keepDeliveries ?? true;
  const random = opts.seed === undefined ? Math.random : seededRandom(opts.seed);
  const deliveries: ReceivedDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let seq = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      req.resume();
      reply(res, 405, { error: 'The ATLAS local receiver accepts POST only (on any path).' }, { Allow: 'POST' });
      return;
    }
    const body = await readBody(req);
    if (body === null) {
      reply(res, 413, { error: `Body larger than ${MAX_BODY_BYTES} bytes.` });
      return;
    }
    const headers = flatHeaders(req);
    const text = body.toString('utf8');
    let parsed: unknown = null;
    let jsonError: string | null = null;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      jsonError = (err as Error).message;
    }
    const simulatedFailure = opts.failRate > 0 && random() < opts.failRate;
    const status = simulatedFailure ? 500 : opts.status;
    const delivery: ReceivedDelivery = {
      seq: ++seq,
      received_at: new Date().toISOString(),
      method: req.method,
      path: req.url ?? '/',
      event: headers['x-atlas-event'] ?? null,
      webhook_id: headers['webhook-id'] ?? null,
      delivery_id: headers['x-atlas-delivery'] ?? null,
      attempt: parseAttempt(headers['x-atlas-attempt']),
      webhook_timestamp: headers['webhook-timestamp'] ?? null,
      headers,
      size: body.length,
      raw_body: text,
      body: parsed,
      json_error: jsonError,
      signatures: verifySignatures(body, headers, opts.secret),
      response: { status, delay_ms: opts.delayMs, simulated_failure: simulatedFailure },
    };
    if (keep) deliveries.push(delivery);
    if (output === 'pretty') write(formatDeliveryPretty(delivery));
    if (output === 'json') write(formatDeliveryJson(delivery));
    options.onDelivery?.(delivery);
    const answer = { received: true, seq: delivery.seq, ...(simulatedFailure ? { simulated_failure: true } : {}) };
    if (opts.delayMs <= 0) {
      reply(res, status, answer);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      reply(res, status, answer);
    }, opts.delayMs);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: `receiver error: ${(err as Error).message}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;

  return {
    port,
    host: opts.host,
    url: `http://${hostInUrl}:${port}/`,
    deliveries,
    count: () => seq,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
