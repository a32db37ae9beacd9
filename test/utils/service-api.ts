/**
 * Talking to a service child process (test/utils/service-process.ts) over
 * real HTTP with global fetch: login, webhooks, bursts of events.
 */

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One JSON request; the body is parsed when it is JSON, else kept as text. */
export async function callApi<T = Record<string, unknown>>(
  baseUrl: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T };
}

/** POST /api/auth/login; returns the access token. */
export async function loginTo(baseUrl: string, username = 'admin', password = 'admin123'): Promise<string> {
  const res = await callApi<{ access_token?: string }>(baseUrl, null, 'POST', '/api/auth/login', { username, password });
  if (res.status !== 200 || !res.body.access_token) throw new Error(`login at ${baseUrl} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** Creates a webhook (201 expected) and returns its id. */
export async function createWebhookAt(
  baseUrl: string,
  token: string,
  body: { url: string; name: string; events: string[]; [k: string]: unknown },
): Promise<string> {
  const res = await callApi<{ id?: string }>(baseUrl, token, 'POST', '/api/webhooks', body);
  if (res.status !== 201 || !res.body.id) throw new Error(`creating webhook ${body.name} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export interface EmitTarget {
  baseUrl: string;
  token: string;
}

export interface BurstResult {
  /** Events answered 202: the service promised to deliver them. */
  acknowledged: Array<{ id: string; type: string }>;
  /** Requests that got another status or no answer (e.g. the process was killed). */
  failed: number;
  /** Requests never sent because `stop()` said so. */
  skipped: number;
}

export interface BurstOptions {
  /** Requests in the air at once (default 16). */
  concurrency?: number;
  /** Event type of the i-th event. */
  typeOf?: (i: number) => string;
  /** Checked before each request; true stops the burst. */
  stop?: () => boolean;
  /** Called after each 202 with the number acknowledged so far. */
  onAcknowledged?: (count: number) => void;
}

/**
 * POSTs `n` events to /api/events, spread round-robin over `targets`, with
 * `concurrency` requests at a time. Never throws for a failed request: it
 * counts it.
 */
export async function emitBurst(targets: EmitTarget[], n: number, options: BurstOptions = {}): Promise<BurstResult> {
  const concurrency = options.concurrency ?? 16;
  const typeOf = options.typeOf ?? (() => 'service.started');
  const result: BurstResult = { acknowledged: [], failed: 0, skipped: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (true) {
      const i = next++;
      if (i >= n) return;
      if (options.stop?.()) {
        result.skipped++;
        continue;
      }
      const target = targets[i % targets.length];
      const type = typeOf(i);
      try {
        const res = await callApi<{ id?: string }>(target.baseUrl, target.token, 'POST', '/api/events', { type, data: { seq: i } });
        if (res.status === 202 && res.body.id) {
          result.acknowledged.push({ id: res.body.id, type });
          options.onAcknowledged?.(result.acknowledged.length);
        } else {
          result.failed++;
        }
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A counter or gauge (no labels) from a service's GET /metrics, read from loopback (allowed without a token by default). */
export async function metricValue(baseUrl: string, name: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in GET /metrics (HTTP ${res.status})`);
  return Number(line.slice(name.length + 1));
}

/** Resolves after the service's sweeper has completed `passes` more passes than now (read from its metrics). */
export async function sweepsLater(baseUrl: string, passes = 2, timeoutMs = 15_000): Promise<void> {
  const start = await metricValue(baseUrl, 'atlas_webhooks_sweeper_runs_total');
  const deadline = Date.now() + timeoutMs;
  while ((await metricValue(baseUrl, 'atlas_webhooks_sweeper_runs_total')) < start + passes) {
    if (Date.now() > deadline) throw new Error(`the sweeper did not complete ${passes} passes within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
