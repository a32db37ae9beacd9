/** The REST API under /api with the bearer token of this tab (sessionStorage: gone when the tab closes). */

const TOKEN_KEY = 'atlas.console.token';

export interface Me {
  id: string;
  username: string;
  role: 'admin' | 'viewer';
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Every message the API gave (the validation messages name their field first). */
    readonly messages: string[],
  ) {
    super(message);
  }

  /** Messages by field name: "url must be an http(s) URL" → url. */
  byField(fields: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of this.messages) {
      const field = fields.find((f) => m === f || m.startsWith(`${f} `) || m.startsWith(`${f}.`) || m.startsWith(`${f}[`));
      if (field && !out[field]) out[field] = m;
    }
    return out;
  }
}

let onUnauthorized: () => void = () => undefined;

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
  onUnauthorized: (fn: () => void) => {
    onUnauthorized = fn;
  },
};

function messagesOf(body: unknown): string[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { message?: unknown; details?: unknown };
  const out: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.message === 'string') out.push(o.message);
      else if (o.constraints && typeof o.constraints === 'object') Object.values(o.constraints as Record<string, unknown>).forEach(collect);
    }
  };
  collect(b.details);
  collect(b.message);
  return [...new Set(out)];
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    if (res.status === 401 && token && !path.startsWith('/auth/change-password')) {
      session.clear();
      onUnauthorized();
    }
    const b = (parsed ?? {}) as { code?: string; message?: string };
    const messages = messagesOf(parsed);
    throw new ApiError(res.status, b.code ?? `HTTP_${res.status}`, typeof b.message === 'string' ? b.message : `HTTP ${res.status}`, messages);
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = (path: string) => api<null>('DELETE', path);

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  total_capped?: boolean;
}

export interface Webhook {
  id: string;
  name: string;
  description: string | null;
  url: string;
  events: string[];
  enabled: boolean;
  retry_enabled: boolean;
  timeout_ms: number;
  headers: Record<string, string>;
  secret: string;
  last_error: string | null;
  last_triggered_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: string;
  status: string;
  success: boolean | null;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  scheduled_at: string;
  next_retry_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface AttemptDetail extends Attempt {
  request_headers: Record<string, string> | null;
  request_body: string | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
}

export interface Bucket {
  start: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  retrying: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface TimeSeries {
  webhook_id: string | null;
  hours: number;
  bucket: string;
  bucket_seconds: number;
  totals: { succeeded: number; failed: number; cancelled: number; retrying: number; success_rate: number | null };
  buckets: Bucket[];
}

export interface Overview {
  hours: number;
  totals: { succeeded: number; failed: number; cancelled: number; retrying: number; success_rate: number | null; p95_ms: number | null };
  queue: { pending: number; due: number; sending: number; oldest_due_at: string | null; oldest_due_age_seconds: number };
  webhooks: { total: number; enabled: number; disabled: number; failing: number };
  attention: Array<{
    id: string;
    name: string;
    url: string;
    enabled: boolean;
    disabled_reason: string | null;
    last_error: string | null;
    consecutive_failures: number;
    failing_since: string | null;
    last_failure_at: string | null;
  }>;
}

export interface WebhookStats {
  total_attempts: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  success_rate: number | null;
  events_delivered: number;
  events_pending_retry: number;
  avg_duration_ms: number | null;
  p95_duration_ms: number | null;
  queue: { pending: number; due: number; sending: number; oldest_due_at: string | null };
  by_event_type: Record<string, { total: number; succeeded: number; failed: number }>;
  consecutive_failures: number;
}

export interface EventType {
  type: string;
  category: string;
  description: string;
}

export interface AtlasEvent {
  id: string;
  type: string;
  data?: unknown;
  payload?: unknown;
  created_at: string;
  fanned_out_at?: string | null;
}

export interface EventDetail extends AtlasEvent {
  deliveries: Array<{ webhook_id: string; attempts: Attempt[] }>;
}

export interface EventSummary {
  event_id: string;
  webhooks: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
}

export interface TestResult {
  success: boolean;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
  log_id: string;
}

export interface User {
  id: string;
  username: string;
  role: 'admin' | 'viewer';
  created_at: string;
}
