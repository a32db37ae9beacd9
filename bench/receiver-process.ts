/**
 * The benchmark's receiver, run as its own process (bench/lib/receiver.ts
 * forks it): plain node:http servers on N loopback ports that read each
 * request and answer 200 at once. It counts and timestamps what arrives and
 * answers the parent over IPC.
 *
 * Arrival time: performance.timeOrigin + performance.now() when the request's
 * headers have been parsed (ms since the epoch; same clock as the parent's).
 * One request in SIG_SAMPLE has its X-ATLAS-Signature checked against the
 * shared secret (BENCH_RECEIVER_SECRET) as a guard against measuring
 * deliveries that would not verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

const PORTS = Math.max(1, Number(process.argv[2] ?? 10));
const SECRET = process.env.BENCH_RECEIVER_SECRET ?? '';
const SIG_SAMPLE = 100;
const ANSWER = '{"ok":true}';
const ANSWER_HEADERS = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(ANSWER)) };

export type ReceiverCommand = { id: number } & ({ cmd: 'reset'; record?: boolean } | { cmd: 'stats' } | { cmd: 'arrivals' });

export interface ReceiverStats {
  count: number;
  /** First and last arrival (ms since the epoch), 0 when none. */
  first: number;
  last: number;
  perPort: number[];
  /** Requests whose X-ATLAS-Delivery (attempt id) had been seen before. */
  duplicates: number;
  sigChecked: number;
  sigBad: number;
}

let stats: ReceiverStats;
let record = false;
let seen = new Set<string>();
let arrivalIds: string[] = [];
let arrivalTimes: number[] = [];

function reset(withRecord: boolean): void {
  stats = { count: 0, first: 0, last: 0, perPort: new Array<number>(PORTS).fill(0), duplicates: 0, sigChecked: 0, sigBad: 0 };
  record = withRecord;
  seen = new Set();
  arrivalIds = [];
  arrivalTimes = [];
}
reset(false);

function verify(body: Buffer, signature: string | undefined): boolean {
  if (!signature || !SECRET) return false;
  const expected = Buffer.from(createHmac('sha256', SECRET).update(body).digest('hex'));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function handler(portIndex: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const t = performance.timeOrigin + performance.now();
    const n = ++stats.count;
    if (stats.first === 0) stats.first = t;
    stats.last = t;
    stats.perPort[portIndex]++;
    const delivery = req.headers['x-atlas-delivery'];
    if (typeof delivery === 'string') {
      if (seen.has(delivery)) stats.duplicates++;
      else seen.add(delivery);
    }
    if (record) {
      arrivalIds.push(String(req.headers['webhook-id'] ?? ''));
      arrivalTimes.push(t);
    }
    const check = n % SIG_SAMPLE === 1 && SECRET !== '';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (check) chunks.push(c);
    });
    req.on('end', () => {
      if (check) {
        stats.sigChecked++;
        if (!verify(Buffer.concat(chunks), req.headers['x-atlas-signature'] as string | undefined)) stats.sigBad++;
      }
      res.writeHead(200, ANSWER_HEADERS);
      res.end(ANSWER);
    });
  };
}

async function main(): Promise<void> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < PORTS; i++) {
    const server = createServer(handler(i));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  process.on('message', (msg: ReceiverCommand) => {
    switch (msg.cmd) {
      case 'reset':
        reset(msg.record ?? false);
        process.send!({ id: msg.id, ok: true });
        break;
      case 'stats':
        process.send!({ id: msg.id, stats });
        break;
      case 'arrivals':
        process.send!({ id: msg.id, ids: arrivalIds, times: arrivalTimes });
        break;
    }
  });
  // The parent is gone (crash, kill -9): do not linger.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, ports });
}

void main().catch((err: Error) => {
  console.error(`receiver: ${err.message}`);
  process.exit(1);
});
