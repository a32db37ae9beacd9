/**
 * Bad input everywhere: every route answers wrong types, missing and extra
 * fields, huge strings, deep JSON, invalid UUIDs, injection-looking strings,
 * silly paging values, unknown event types and bodies that are not JSON with
 * a 4xx and a JSON body whose `message` names the problem, never a 500; and
 * the barrage leaves the stored data as it was.
 */
import { CaptureServer } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

type Method = 'get' | 'post' | 'put' | 'delete';

interface Case {
  /** `METHOD path`, with :hook, :log, :event, :user standing for real ids. */
  route: string;
  /** A JSON value to send, or `raw` text with `type` as Content-Type. */
  body?: unknown;
  raw?: string;
  type?: string;
  /** Expected status (default 400). */
  status?: number;
  /** The message must match. */
  message: RegExp;
  /** Who calls (default admin). */
  as?: 'admin' | 'viewer' | 'nobody' | 'garbage';
  why?: string;
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const HUGE = 'x'.repeat(100_000);
const SQL = "'; DROP TABLE webhooks;--";
const SCRIPT = '<script>alert(1)</script>';
const DEEP_ARRAYS = '['.repeat(10_000) + ']'.repeat(10_000);
const DEEP_OBJECTS = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
const goodHook = { url: 'http://127.0.0.1:9/hook', name: 'valid', events: ['service.started'] };

const CASES: Case[] = [
  // ---- auth -----------------------------------------------------------------
  { route: 'POST /api/auth/login', body: {}, message: /username must be a string/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: 123, password: true }, message: /username must be a string.*password must be a string/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: 'admin' }, message: /password/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: 'admin', password: 'admin123', role: 'admin' }, message: /property role should not exist/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: HUGE, password: 'x' }, message: /username must be shorter than or equal to 100 characters/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: SQL, password: "' OR '1'='1" }, status: 401, message: /Invalid username or password/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: { username: ['admin'], password: 'admin123' }, message: /username must be a string/, as: 'nobody' },
  { route: 'POST /api/auth/login', body: [{ username: 'admin', password: 'admin123' }], message: /object|username/, as: 'nobody' },
  {
    route: 'POST /api/auth/login',
    raw: 'username=admin&password=admin123',
    type: 'application/x-www-form-urlencoded',
    status: 415,
    message: /application\/json/,
    as: 'nobody',
  },
  { route: 'POST /api/auth/login', raw: 'admin admin123', type: 'text/plain', status: 415, message: /application\/json/, as: 'nobody' },
  { route: 'POST /api/auth/login', raw: '{"username": "admin", "password": "adm', type: 'application/json', message: /not valid JSON/, as: 'nobody' },
  { route: 'POST /api/auth/login', raw: 'null', type: 'application/json', message: /username must be a string|JSON object/, as: 'nobody' },
  { route: 'POST /api/auth/login', raw: '"admin"', type: 'application/json', message: /JSON object|username/, as: 'nobody' },
  { route: 'POST /api/auth/login', raw: DEEP_ARRAYS, type: 'application/json', message: /JSON object|username|nest/, as: 'nobody' },
  {
    route: 'POST /api/auth/login',
    raw: `{"username":"admin","password":"admin123","x":${DEEP_OBJECTS}}`,
    type: 'application/json',
    message: /x|nest/,
    as: 'nobody',
  },
  { route: 'GET /api/auth/me', status: 401, message: /token/i, as: 'nobody' },
  { route: 'GET /api/auth/me', status: 401, message: /token|Unauthorized/i, as: 'garbage' },
  {
    route: 'POST /api/auth/change-password',
    body: { current_password: 'admin123', new_password: 'short' },
    message: /new_password must be longer than or equal to 8/,
  },
  {
    route: 'POST /api/auth/change-password',
    body: { current_password: 5, new_password: HUGE },
    message: /current_password must be a string.*new_password must be shorter/,
  },

  // ---- users ----------------------------------------------------------------
  { route: 'POST /api/users', body: { username: 'ab', password: 'long-enough-1', role: 'viewer' }, message: /username must be 3-100 letters/ },
  { route: 'POST /api/users', body: { username: SCRIPT, password: 'long-enough-1', role: 'viewer' }, message: /username must be 3-100 letters/ },
  { route: 'POST /api/users', body: { username: SQL, password: 'long-enough-1', role: 'viewer' }, message: /username must be 3-100 letters/ },
  { route: 'POST /api/users', body: { username: 'newbie', password: 'long-enough-1', role: 'root' }, message: /role must be one of/ },
  { route: 'POST /api/users', body: { username: 'newbie', password: 12345678, role: 'viewer' }, message: /password must be a string/ },
  {
    route: 'POST /api/users',
    body: { username: 'newbie', password: 'long-enough-1', role: 'viewer', is_admin: true },
    message: /property is_admin should not exist/,
  },
  { route: 'POST /api/users', body: { username: 'newbie', password: 'long-enough-1', role: 'viewer' }, status: 403, message: /./, as: 'viewer' },
  { route: 'POST /api/users', body: { username: 'watcher', password: 'long-enough-1', role: 'viewer' }, status: 409, message: /watcher/ },
  { route: 'GET /api/users?limit=-1', message: /limit must not be less than 1/ },
  { route: 'GET /api/users?limit=99999999999999999999', message: /limit must not be greater than 500|limit must be a whole number/ },
  { route: 'GET /api/users?offset=-5', message: /offset must not be less than 0/ },
  { route: 'GET /api/users?limit=abc', message: /limit must be a whole number/ },
  { route: 'GET /api/users?limit=1.5', message: /limit must be a whole number/ },
  { route: 'GET /api/users?limit=1&limit=2', message: /limit/ },
  { route: `GET /api/users?limit=${encodeURIComponent(SQL)}`, message: /limit must be a whole number/ },
  { route: 'DELETE /api/users/not-a-uuid', message: /id must be a UUID/ },
  { route: `DELETE /api/users/${encodeURIComponent(SQL)}`, message: /id must be a UUID/ },
  { route: `DELETE /api/users/${UNKNOWN}`, status: 404, message: /user|No/i },

  // ---- webhooks CRUD --------------------------------------------------------
  { route: 'POST /api/webhooks', body: {}, message: /url is required/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, url: 42 }, message: /url must be a string/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, url: SQL }, message: /url is not a valid URL/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, url: 'javascript:alert(1)' }, message: /url must be an http:\/\/ or https:\/\/ URL/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, url: `http://example.com/${HUGE}` }, message: /url must be at most 2048 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, name: HUGE }, message: /name must be 1 to 100 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, name: '   ' }, message: /name must be 1 to 100 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, name: { first: 'a' } }, message: /name must be a string/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, description: HUGE }, message: /description must be at most 1000 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, events: 'service.started' }, message: /events/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, events: ['service.exploded'] }, message: /service\.exploded/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, events: [SQL] }, message: /events/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, events: [123, null] }, message: /events/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, events: [] }, message: /events/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, retry_enabled: 'yes' }, message: /retry_enabled must be true or false/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, enabled: 1 }, message: /enabled must be true or false/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, timeout_ms: -1 }, message: /timeout_ms must be at least 1000/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, timeout_ms: 1e12 }, message: /timeout_ms must be at most 30000/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, timeout_ms: '5000' }, message: /timeout_ms must be a whole number/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, timeout_ms: 1500.5 }, message: /timeout_ms must be a whole number/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, secret: 'short' }, message: /secret must be 16 to 255 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, secret: HUGE }, message: /secret must be 16 to 255 characters/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, headers: ['X-A: b'] }, message: /headers must be an object/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, headers: { 'X-Num': 1 } }, message: /headers\.X-Num must be a string/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, headers: { 'Bad Name': 'v' } }, message: /not a valid header name/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, headers: { 'X-Evil': 'a\r\nX-Injected: 1' } }, message: /must not contain line breaks/ },
  { route: 'POST /api/webhooks', body: { ...goodHook, headers: { 'X-Big': HUGE } }, message: /at most 1024 characters/ },
  {
    route: 'POST /api/webhooks',
    body: { ...goodHook, headers: { 'X-Deep': JSON.parse(DEEP_OBJECTS.slice(0, 5 * 10) + '1' + '}'.repeat(10)) } },
    message: /headers\.X-Deep must be a string/,
  },
  {
    route: 'POST /api/webhooks',
    body: { ...goodHook, is_admin: true, id: UNKNOWN },
    message: /property is_admin should not exist.*property id should not exist/,
  },
  { route: 'POST /api/webhooks', body: [goodHook], message: /object|url/ },
  {
    route: 'POST /api/webhooks',
    raw: `{"url":"http://127.0.0.1:9/","name":"n","events":["*"],"extra":${DEEP_ARRAYS}}`,
    type: 'application/json',
    message: /extra|nest/,
  },
  { route: 'POST /api/webhooks', raw: `{"url":"http://127.0.0.1:9/","name":"n","events":${DEEP_ARRAYS}}`, type: 'application/json', message: /events|nest/ },
  {
    route: 'POST /api/webhooks',
    raw: `{"url":"http://127.0.0.1:9/","name":"n","events":["*"],"headers":${DEEP_OBJECTS}}`,
    type: 'application/json',
    message: /headers|nest/,
  },
  {
    route: 'POST /api/webhooks',
    raw: 'url=http://127.0.0.1:9/&name=n&events=*',
    type: 'application/x-www-form-urlencoded',
    status: 415,
    message: /application\/json/,
  },
  { route: 'POST /api/webhooks', raw: JSON.stringify(goodHook), type: 'text/plain', status: 415, message: /application\/json/ },
  { route: 'POST /api/webhooks', raw: '{"url": "http://127.0.0.1:9/", "name": ', type: 'application/json', message: /not valid JSON/ },
  { route: 'POST /api/webhooks', raw: '', type: 'application/json', message: /url is required/ },
  { route: 'POST /api/webhooks', raw: '12345', type: 'application/json', message: /object|url/ },
  {
    route: 'POST /api/webhooks',
    raw: `{"url":"http://127.0.0.1:9/","name":"${'y'.repeat(1_100_000)}"}`,
    type: 'application/json',
    status: 413,
    message: /larger than the limit/,
  },
  { route: 'POST /api/webhooks', body: goodHook, status: 403, message: /./, as: 'viewer' },
  { route: 'GET /api/webhooks?enabled=maybe', message: /enabled must be true or false/ },
  { route: 'GET /api/webhooks?event=nope.nope', message: /unknown "nope\.nope"/ },
  { route: `GET /api/webhooks?event=${encodeURIComponent(SCRIPT)}`, message: /event must be an event type/ },
  { route: 'GET /api/webhooks?event=a&event=b', message: /event must be a single event type/ },
  { route: 'GET /api/webhooks?limit=0', message: /limit must not be less than 1/ },
  { route: 'GET /api/webhooks?limit=501', message: /limit must not be greater than 500/ },
  { route: 'GET /api/webhooks?offset=1e400', message: /offset must be a whole number/ },
  { route: 'GET /api/webhooks?offset=-1', message: /offset must not be less than 0/ },
  { route: 'GET /api/webhooks?unknown=1', message: /property unknown should not exist/ },
  { route: 'GET /api/webhooks/123', message: /id must be a UUID/ },
  { route: `GET /api/webhooks/${encodeURIComponent(SQL)}`, message: /id must be a UUID/ },
  { route: `GET /api/webhooks/${encodeURIComponent(SCRIPT)}`, message: /id must be a UUID/ },
  { route: `GET /api/webhooks/${UNKNOWN}`, status: 404, message: /No webhook with id/ },
  { route: `GET /api/webhooks/${'9'.repeat(5000)}`, message: /id must be a UUID/ },
  { route: 'PUT /api/webhooks/:hook', body: { name: null }, message: /name must be a string/ },
  { route: 'PUT /api/webhooks/:hook', body: { url: 5 }, message: /url must be a string/ },
  { route: 'PUT /api/webhooks/:hook', body: { enabled: 'false' }, message: /enabled must be true or false/ },
  { route: 'PUT /api/webhooks/:hook', body: { events: null }, message: /events/ },
  { route: 'PUT /api/webhooks/:hook', body: { timeout_ms: null }, message: /timeout_ms/ },
  { route: 'PUT /api/webhooks/:hook', body: { name: HUGE }, message: /name must be 1 to 100 characters/ },
  { route: 'PUT /api/webhooks/:hook', body: { id: UNKNOWN }, message: /property id should not exist/ },
  { route: 'PUT /api/webhooks/:hook', body: { secret: 12345678901234 }, message: /secret must be a string/ },
  { route: 'PUT /api/webhooks/:hook', raw: 'name=x', type: 'application/x-www-form-urlencoded', status: 415, message: /application\/json/ },
  { route: 'PUT /api/webhooks/:hook', raw: '{"name": "x"', type: 'application/json', message: /not valid JSON/ },
  { route: 'PUT /api/webhooks/:hook', body: ['name', 'x'], message: /object|property/ },
  { route: 'PUT /api/webhooks/:hook', body: { name: 'x' }, status: 403, message: /./, as: 'viewer' },
  { route: `PUT /api/webhooks/${UNKNOWN}`, body: { name: 'x' }, status: 404, message: /No webhook with id/ },
  { route: 'PUT /api/webhooks/zzz', body: { name: 'x' }, message: /id must be a UUID/ },
  { route: 'DELETE /api/webhooks/zzz', message: /id must be a UUID/ },
  { route: `DELETE /api/webhooks/${UNKNOWN}`, status: 404, message: /No webhook with id/ },
  { route: 'DELETE /api/webhooks/:hook', status: 403, message: /./, as: 'viewer' },

  // ---- webhook actions ------------------------------------------------------
  { route: 'POST /api/webhooks/not-a-uuid/toggle', message: /id must be a UUID/ },
  { route: `POST /api/webhooks/${UNKNOWN}/toggle`, status: 404, message: /No webhook with id/ },
  { route: 'POST /api/webhooks/:hook/toggle', status: 403, message: /./, as: 'viewer' },
  { route: `POST /api/webhooks/${encodeURIComponent(SQL)}/test`, message: /id must be a UUID/ },
  { route: `POST /api/webhooks/${UNKNOWN}/test`, status: 404, message: /No webhook with id/ },
  { route: 'POST /api/webhooks/:hook/test', status: 403, message: /./, as: 'viewer' },
  { route: 'GET /api/webhooks/:hook/logs?limit=-1', message: /limit must not be less than 1/ },
  { route: 'GET /api/webhooks/:hook/logs?limit=100000', message: /limit must not be greater than 500/ },
  { route: 'GET /api/webhooks/:hook/logs?offset=-1', message: /offset must not be less than 0/ },
  { route: 'GET /api/webhooks/:hook/logs?success=maybe', message: /success must be true or false/ },
  { route: 'GET /api/webhooks/:hook/logs?status=exploded', message: /status must be one of/ },
  { route: `GET /api/webhooks/:hook/logs?status=${encodeURIComponent(SQL)}`, message: /status must be one of/ },
  { route: 'GET /api/webhooks/:hook/logs?since=yesterday', message: /since must be an ISO 8601 date-time/ },
  { route: 'GET /api/webhooks/:hook/logs?since=2026-02-30T00:00:00Z', message: /since must be an ISO 8601 date-time/ },
  { route: 'GET /api/webhooks/:hook/logs?until=99999-01-01', message: /until must be an ISO 8601 date-time/ },
  { route: `GET /api/webhooks/:hook/logs?event_type=${'e'.repeat(101)}`, message: /event_type must be shorter than or equal to 100 characters/ },
  { route: 'GET /api/webhooks/:hook/logs?event_type=a&event_type=b', message: /event_type must be a string/ },
  { route: 'GET /api/webhooks/nope/logs', message: /id must be a UUID/ },
  { route: `GET /api/webhooks/${UNKNOWN}/logs`, status: 404, message: /No webhook with id/ },
  { route: 'GET /api/webhooks/:hook/logs/nope', message: /log_id must be a UUID/ },
  { route: `GET /api/webhooks/:hook/logs/${UNKNOWN}`, status: 404, message: /No attempt/ },
  { route: 'GET /api/webhooks/:hook/stats?hours=0', message: /hours must not be less than 1/ },
  { route: 'GET /api/webhooks/:hook/stats?hours=-24', message: /hours must not be less than 1/ },
  { route: 'GET /api/webhooks/:hook/stats?hours=1000000', message: /hours must not be greater than 8760/ },
  { route: 'GET /api/webhooks/:hook/stats?hours=abc', message: /hours must be a whole number/ },
  { route: 'GET /api/webhooks/:hook/stats?hours=Infinity', message: /hours must be a whole number/ },
  { route: 'GET /api/webhooks/x/stats', message: /id must be a UUID/ },
  { route: 'GET /api/webhooks/logs/recent?hours=-1', message: /hours must not be less than 1/ },
  { route: 'GET /api/webhooks/logs/recent?hours=1e9', message: /hours must not be greater than 8760/ },
  { route: 'GET /api/webhooks/logs/recent?hours=', message: /hours must/ },
  { route: 'GET /api/webhooks/logs/recent?limit=5000000', message: /limit must not be greater than 500/ },
  { route: 'GET /api/webhooks/logs/recent?offset=99999999999', message: /offset must not be greater than 10000000/ },
  { route: 'GET /api/webhooks/logs/recent?status[]=failed', message: /status/ },
  { route: 'GET /api/webhooks/:hook/secret', status: 403, message: /./, as: 'viewer' },
  { route: 'GET /api/webhooks/x/secret', message: /id must be a UUID/ },
  { route: `GET /api/webhooks/${UNKNOWN}/secret`, status: 404, message: /No webhook with id/ },
  { route: 'POST /api/webhooks/x/rotate-secret', message: /id must be a UUID/ },
  { route: `POST /api/webhooks/${UNKNOWN}/rotate-secret`, status: 404, message: /No webhook with id/ },
  { route: 'POST /api/webhooks/:hook/rotate-secret', status: 403, message: /./, as: 'viewer' },
  { route: 'POST /api/webhooks/:hook/logs/x/redeliver', message: /log_id must be a UUID/ },
  { route: `POST /api/webhooks/:hook/logs/${UNKNOWN}/redeliver`, status: 404, message: /No attempt/ },
  { route: `POST /api/webhooks/x/logs/${UNKNOWN}/redeliver`, message: /id must be a UUID/ },
  { route: 'POST /api/webhooks/:hook/logs/:log/redeliver', status: 403, message: /./, as: 'viewer' },
  { route: 'POST /api/webhooks/:hook/recover', body: {}, message: /since must be an ISO 8601 date-time/ },
  { route: 'POST /api/webhooks/:hook/recover', body: { since: SQL }, message: /since must be an ISO 8601 date-time/ },
  { route: 'POST /api/webhooks/:hook/recover', body: { since: '2999-01-01T00:00:00Z' }, message: /since must not be in the future/ },
  { route: 'POST /api/webhooks/:hook/recover', body: { since: { $gt: '' } }, message: /since must be an ISO 8601 date-time/ },
  { route: 'POST /api/webhooks/:hook/recover', body: { since: '2020-01-01T00:00:00Z', all: true }, message: /property all should not exist/ },
  { route: 'POST /api/webhooks/:hook/recover', raw: 'since=2020-01-01', type: 'application/x-www-form-urlencoded', status: 415, message: /application\/json/ },
  { route: 'POST /api/webhooks/:hook/recover', raw: '{"since": "2020-', type: 'application/json', message: /not valid JSON/ },
  { route: 'POST /api/webhooks/:hook/recover', body: ['2020-01-01T00:00:00Z'], message: /object|since/ },
  { route: `POST /api/webhooks/${UNKNOWN}/recover`, body: { since: '2020-01-01T00:00:00Z' }, status: 404, message: /No webhook with id/ },
  { route: 'POST /api/webhooks/:hook/recover', body: { since: '2020-01-01T00:00:00Z' }, status: 403, message: /./, as: 'viewer' },

  // ---- events ---------------------------------------------------------------
  { route: 'POST /api/events', body: {}, message: /type must be a string/ },
  { route: 'POST /api/events', body: { type: 123 }, message: /type must be a string/ },
  { route: 'POST /api/events', body: { type: 'service.exploded' }, message: /service\.exploded/ },
  { route: 'POST /api/events', body: { type: SQL }, message: /Unknown event type/ },
  { route: 'POST /api/events', body: { type: SCRIPT }, message: /Unknown event type/ },
  { route: 'POST /api/events', body: { type: HUGE }, message: /type must be shorter than or equal to 100 characters/ },
  { route: 'POST /api/events', body: { type: 'webhook.test' }, message: /webhook\.test is reserved/ },
  { route: 'POST /api/events', body: { type: 'service.started', data: [1, 2] }, message: /data must be a JSON object/ },
  { route: 'POST /api/events', body: { type: 'service.started', data: 'text' }, message: /data must be a JSON object/ },
  { route: 'POST /api/events', body: { type: 'service.started', data: null }, message: /data must be a JSON object/ },
  { route: 'POST /api/events', body: { type: 'service.started', data: {}, source: 'x' }, message: /property source should not exist/ },
  { route: 'POST /api/events', body: { type: 'service.started', data: { blob: 'z'.repeat(300_000) } }, status: 413, message: /WEBHOOK_MAX_PAYLOAD_BYTES/ },
  { route: 'POST /api/events', raw: `{"type":"service.started","data":{"deep":${DEEP_ARRAYS}}}`, type: 'application/json', message: /data|nest|deep/ },
  { route: 'POST /api/events', raw: `{"type":"service.started","data":${DEEP_OBJECTS}}`, type: 'application/json', message: /data|nest|deep/ },
  { route: 'POST /api/events', raw: DEEP_ARRAYS, type: 'application/json', message: /JSON object|nested deeper than 100 levels/ },
  { route: 'POST /api/events', raw: 'type=service.started', type: 'application/x-www-form-urlencoded', status: 415, message: /application\/json/ },
  { route: 'POST /api/events', raw: '{"type":"service.started"}', type: 'text/plain', status: 415, message: /application\/json/ },
  { route: 'POST /api/events', raw: '{"type":"service.started","data":{', type: 'application/json', message: /not valid JSON/ },
  { route: 'POST /api/events', body: [{ type: 'service.started' }], message: /JSON object/ },
  { route: 'POST /api/events', raw: 'null', type: 'application/json', message: /JSON object|type must be a string/ },
  { route: 'POST /api/events', body: { type: 'service.started' }, status: 403, message: /./, as: 'viewer' },
  { route: 'GET /api/events?type=service.exploded', message: /service\.exploded/ },
  { route: `GET /api/events?type=${encodeURIComponent(SQL)}`, message: /Unknown event type/ },
  { route: 'GET /api/events?type=a&type=b', message: /type/ },
  { route: 'GET /api/events?since=yesterday', message: /since must be an ISO 8601 timestamp/ },
  { route: 'GET /api/events?since=2026-02-30T00:00:00Z', message: /since must be an ISO 8601 timestamp/ },
  { route: 'GET /api/events?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', message: /since must not be later than until/ },
  { route: 'GET /api/events?limit=-1', message: /limit must not be less than 1/ },
  { route: 'GET /api/events?limit=1e6', message: /limit must not be greater than 500|limit must be a whole number/ },
  { route: 'GET /api/events?offset=-10', message: /offset must not be less than 0/ },
  { route: 'GET /api/events?offset=abc', message: /offset must be a whole number/ },
  { route: 'GET /api/events/not-a-uuid', message: /id must be a UUID/ },
  { route: `GET /api/events/${encodeURIComponent(SCRIPT)}`, message: /id must be a UUID/ },
  { route: `GET /api/events/${UNKNOWN}`, status: 404, message: /No event with id/ },
  { route: 'GET /api/events/types', status: 401, message: /token/i, as: 'nobody' },
  { route: 'DELETE /api/events/types', status: 404, message: /Cannot DELETE|not found/i },
  { route: 'POST /api/events/types', body: {}, message: /type must be a string.*schema must be a JSON object/ },
  {
    route: 'POST /api/events/types',
    body: { type: 'billing.x', description: 'x', schema: { type: 'objekt' }, example: {} },
    message: /not a valid JSON Schema/,
  },
  { route: 'PATCH /api/events/types/service.started', body: { enforced: 'yes' }, message: /enforced must be true or false/ },
  { route: 'PATCH /api/events/types/no.such', body: { enforced: true }, status: 404, message: /No event type no.such/ },
  { route: 'GET /api/events?cursor=%00%01', message: /cursor is not valid/ },
  { route: 'GET /api/events?data.=nginx', message: /name a field of the data/ },
];

describe('Bad input (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await new CaptureServer().start();
    tokens.admin = await t.login();
    await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .send({ username: 'watcher', password: 'watcher-pass-1', role: 'viewer' })
      .expect(201);
    tokens.viewer = await t.login('watcher', 'watcher-pass-1');
    const hook = await t
      .http()
      .post('/api/webhooks')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .send({ url: `${receiver.url}/hook`, name: 'fixture', events: ['service.started'], headers: { 'X-Custom': 'yes' } })
      .expect(201);
    ids.hook = hook.body.id;
    const test = await t.http().post(`/api/webhooks/${ids.hook}/test`).set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(test.body.success).toBe(true);
    ids.log = test.body.log_id;
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  /** Everything an admin can read back: the webhooks (with secrets), users, events and attempts. */
  async function snapshot() {
    const get = async (path: string) => (await t.http().get(path).set('Authorization', `Bearer ${tokens.admin}`).expect(200)).body;
    const webhooks = await get('/api/webhooks?limit=500');
    const secrets = await Promise.all(webhooks.items.map((w: { id: string }) => get(`/api/webhooks/${w.id}/secret`)));
    return {
      webhooks,
      secrets,
      users: await get('/api/users?limit=500'),
      events: await get('/api/events?limit=500'),
      logs: await get('/api/webhooks/logs/recent?limit=500'),
    };
  }

  function send(c: Case) {
    const [method, template] = c.route.split(' ') as [string, string];
    const path = template.replace(/:(hook|log|event|user)\b/g, (_m, k: string) => ids[k]);
    let req = t.http()[method.toLowerCase() as Method](path);
    const who = c.as ?? 'admin';
    if (who === 'garbage') req = req.set('Authorization', 'Bearer not.a.jwt');
    else if (who !== 'nobody') req = req.set('Authorization', `Bearer ${tokens[who]}`);
    if (c.raw !== undefined) return req.set('Content-Type', c.type ?? 'application/json').send(c.raw);
    if (c.body !== undefined) return req.send(c.body as object);
    return req;
  }

  const label = (c: Case) =>
    `${c.route.slice(0, 90)}${c.body !== undefined ? ' ' + JSON.stringify(c.body).slice(0, 60) : ''}${c.raw !== undefined ? ` [${c.type}] ${c.raw.slice(0, 40)}` : ''}${c.as ? ` as ${c.as}` : ''}`;

  it('answers every bad request with a 4xx naming the problem, and changes nothing', async () => {
    const before = await snapshot();
    const problems: string[] = [];
    for (const c of CASES) {
      const res = await send(c);
      const expected = c.status ?? 400;
      const body = res.body as { message?: unknown; status_code?: number };
      const ok =
        res.status === expected &&
        /application\/json/.test(String(res.headers['content-type'])) &&
        typeof body?.message === 'string' &&
        body.message.length > 0 &&
        c.message.test(body.message) &&
        body.status_code === res.status;
      if (process.env.BAD_INPUT_DUMP) console.log(`${label(c)}\n    → ${res.status} ${JSON.stringify(body.message)}`);
      if (!ok) problems.push(`${label(c)}\n    → ${res.status} ${String(res.headers['content-type'])} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    expect(problems).toEqual([]);
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(receiver.requests).toHaveLength(1); // the fixture's test delivery only
  });

  it('stores SQL and script fragments in valid fields verbatim, as data', async () => {
    const auth = { Authorization: `Bearer ${tokens.admin}` };
    const created = await t
      .http()
      .post('/api/webhooks')
      .set(auth)
      .send({ url: `${receiver.url}/?q=${encodeURIComponent(SQL)}`, name: SQL, description: SCRIPT, events: ['*'], headers: { 'X-Note': SCRIPT } })
      .expect(201);
    try {
      const read = await t.http().get(`/api/webhooks/${created.body.id}`).set(auth).expect(200);
      expect(read.body).toMatchObject({ name: SQL, description: SCRIPT, headers: { 'X-Note': SCRIPT } });
      const listed = await t.http().get('/api/webhooks?limit=500').set(auth).expect(200);
      expect(listed.body.total).toBe(2);
      const event = await t
        .http()
        .post('/api/events')
        .set(auth)
        .send({ type: 'system.error', data: { sql: SQL, html: SCRIPT } })
        .expect(202);
      const stored = await t.http().get(`/api/events/${event.body.id}`).set(auth).expect(200);
      expect(stored.body.data).toEqual({ sql: SQL, html: SCRIPT });
    } finally {
      await t.http().delete(`/api/webhooks/${created.body.id}`).set(auth).expect(204);
    }
  });
});
