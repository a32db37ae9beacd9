import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';

export interface Captured {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export type Responder = (req: Captured, index: number) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

/** A real HTTP receiver on loopback that records every request and answers as told. */
export class CaptureServer {
  readonly requests: Captured[] = [];
  private server!: Server;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private hanging: ServerResponse[] = [];
  port = 0;

  constructor(private responder: Responder = () => ({ status: 200, body: 'ok' })) {}

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const captured: Captured = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        };
        const index = this.requests.length;
        this.requests.push(captured);
        this.waiters = this.waiters.filter((w) => {
          if (this.requests.length >= w.n) w.resolve();
          return this.requests.length < w.n;
        });
        const answer = this.responder(captured, index);
        if (answer === 'hang') {
          this.hanging.push(res);
          return;
        }
        const send = () => {
          res.writeHead(answer.status, { 'Content-Type': 'text/plain', ...answer.headers });
          res.end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Resolves once `n` requests have arrived in total; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 15000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} requests, got ${this.requests.length} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
