/** The service's REST API as the benchmark uses it: keep-alive connections (undici Pool), a bearer token. */
import { Pool } from 'undici';
import { nowMs } from './stats';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  /** When the response (body included) was read, ms since the epoch. */
  at: number;
  ms: number;
}

export interface WebhookInput {
  url: string;
  name: string;
  events: string[];
  secret: string;
}

export const EVENT_TYPE = 'service.started';

/** A realistic event payload (about 250 bytes as canonical JSON). */
export function eventData(i: number): Record<string, unknown> {
  return {
    service_id: `svc-${i}`,
    name: 'nginx',
    host: `node-${i % 17}.cluster.local`,
    port: 8080,
    version: '1.27.3',
    tags: ['web', 'prod', `shard-${i % 8}`],
    started_at: '2026-05-01T12:00:00.000Z',
    owner: { id: 42, name: 'ops-team' },
  };
}

/** A JSON Schema that eventData() matches, as an operator would write it for the benchmark's type (formats, nesting, an array). */
export const EVENT_DATA_SCHEMA = {
  type: 'object',
  properties: {
    service_id: { type: 'string', pattern: '^svc-[0-9]+$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    host: { type: 'string', format: 'hostname' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 20 },
    started_at: { type: 'string', format: 'date-time' },
    owner: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } }, required: ['id', 'name'] },
  },
  required: ['service_id', 'name', 'host', 'port', 'version', 'started_at', 'owner'],
  additionalProperties: false,
};

export class ApiClient {
  private constructor(
    private readonly pool: Pool,
    private readonly token: string,
  ) {}

  static async login(baseUrl: string, username: string, password: string, connections = 16): Promise<ApiClient> {
    const pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
    const res = await pool.request({
      method: 'POST',
      path: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await res.body.json()) as { access_token?: string };
    if (res.statusCode !== 200 || !body.access_token) throw new Error(`login failed: HTTP ${res.statusCode} ${JSON.stringify(body)}`);
    return new ApiClient(pool, body.access_token);
  }

  /** A client for a server that takes a fixed bearer token (the minimal sender). */
  static withToken(baseUrl: string, token: string, connections = 16): ApiClient {
    return new ApiClient(new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 30_000 }), token);
  }

  get bearer(): string {
    return this.token;
  }

  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<ApiResponse<T>> {
    const t0 = performance.now();
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    const at = nowMs();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status: res.statusCode, body: parsed as T, at, ms: performance.now() - t0 };
  }

  async createWebhook(input: WebhookInput): Promise<string> {
    const res = await this.request<{ id: string }>('POST', '/api/webhooks', { ...input, description: 'benchmark' });
    if (res.status !== 201) throw new Error(`creating a webhook failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  /** POST /api/events; resolves when the 202 has been read. */
  async emit(i: number, type = EVENT_TYPE): Promise<{ id: string; at: number }> {
    const res = await this.request<{ id: string }>('POST', '/api/events', { type, data: eventData(i) });
    if (res.status !== 202) throw new Error(`emit failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id, at: res.at };
  }

  /**
   * Emits `count` events keeping `concurrency` requests outstanding; returns
   * when every 202 has arrived, with the emit start and end times.
   */
  async emitMany(count: number, concurrency: number, onEmitted?: (id: string, at: number) => void): Promise<{ start: number; end: number }> {
    const start = nowMs();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const r = await this.emit(i);
        onEmitted?.(r.id, r.at);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { start, end: nowMs() };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
