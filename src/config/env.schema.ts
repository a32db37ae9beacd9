/**
 * Every environment variable the service reads, in one table: its parser, its
 * default and the line the README and `.env.example` show for it. Parsed once
 * at start-up (`parseEnv`); a bad value stops the start with a message that
 * names the variable.
 */
import { parseCidrList } from './cidr';
import { parseDurationList, parseDurationMs } from './duration';

export type LogLevelName = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

type Parser<T> = (raw: string) => T;

/** One variable: how to parse it, its default and its documentation line. */
interface VariableDefinition<T> {
  parse: Parser<T>;
  /** Raw default as written in `.env.example`; undefined means unset. */
  default?: string;
  description: string;
  secret?: boolean;
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

const str =
  (minLength = 1): Parser<string> =>
  (raw) => {
    if (raw.length < minLength) throw new Error(`must be at least ${minLength} characters`);
    return raw;
  };

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

const url: Parser<string> = (raw) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error('must be a URL like postgres://user:password@host:5432/db');
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new Error(`must start with postgres:// or postgresql://, got "${parsed.protocol}//"`);
  }
  return raw;
};

const bytes: Parser<number> = (raw) => {
  const m = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(raw.trim());
  if (!m) throw new Error(`must be a size like 262144, 256kb or 1mb, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Number(m[1]) * factor;
  if (n < 1024 || n > 64 * 1024 * 1024) throw new Error('must be between 1kb and 64mb');
  return n;
};

const optional =
  <T>(parse: Parser<T>): Parser<T | undefined> =>
  (raw) =>
    raw === '' ? undefined : parse(raw);

const SCHEMA = {
  NODE_ENV: { parse: str(1), default: 'development', description: '`production` makes `JWT_SECRET` required and logs JSON lines.' },
  PORT: { parse: int(0, 65535), default: '5000', description: 'HTTP port of the API and Swagger UI.' },
  HOST: { parse: str(1), default: '0.0.0.0', description: 'Address the HTTP server binds to.' },
  DATABASE_URL: {
    parse: optional(url),
    description: 'External PostgreSQL (`postgres://user:pass@host:5432/db`). Unset: an embedded PostgreSQL is started under `DATA_DIR`.',
    secret: true,
  },
  DATA_DIR: { parse: str(1), default: './.data', description: 'Embedded PostgreSQL data and the generated JWT secret live here.' },
  EMBEDDED_PG_PORT: { parse: int(1, 65535), default: '54329', description: 'Loopback port of the embedded PostgreSQL (ignored with `DATABASE_URL`).' },
  DB_POOL_SIZE: { parse: int(1, 200), default: '10', description: 'PostgreSQL connections per instance.' },
  DB_STATEMENT_TIMEOUT_MS: {
    parse: parseDurationMs,
    default: '30s',
    description:
      'PostgreSQL cancels any statement of this service that runs longer (`statement_timeout` on every pool connection), so a stuck query cannot hold a connection forever. `0` turns it off. Migrations are not limited.',
  },
  JWT_SECRET: {
    parse: optional(str(32)),
    description: 'HS256 signing key, at least 32 characters. Required when `NODE_ENV=production`; otherwise generated once into `DATA_DIR/jwt-secret`.',
    secret: true,
  },
  JWT_EXPIRES_IN: { parse: parseDurationMs, default: '1h', description: 'Access token lifetime (`900s`, `15m`, `1h`, `1d`).' },
  ADMIN_USERNAME: { parse: str(1), default: 'admin', description: 'Admin user created on first start.' },
  ADMIN_PASSWORD: {
    parse: str(8),
    default: 'admin123',
    description: 'Password of that admin user on first start (a warning is logged while the default is in use).',
    secret: true,
  },
  LOG_LEVEL: {
    parse: oneOf<LogLevelName>('error', 'warn', 'log', 'debug', 'verbose'),
    default: 'log',
    description: '`error`, `warn`, `log`, `debug` (one line per delivery attempt) or `verbose`.',
  },
  LOGIN_RATE_LIMIT: { parse: int(1, 100000), default: '10', description: 'Login attempts allowed per client address and username per minute (then 429).' },
  BODY_LIMIT_BYTES: { parse: bytes, default: '1mb', description: 'Largest accepted request body (then 413).' },
  WEBHOOK_MAX_PAYLOAD_BYTES: {
    parse: bytes,
    default: '256kb',
    description: 'Largest event payload (`data`) accepted by `emit` and `POST /api/events` (then 413).',
  },
  WEBHOOK_RETRY_SCHEDULE: {
    parse: parseDurationList,
    default: '5s,5m,30m,2h,5h,10h,10h',
    description: 'Delays before attempts 2, 3, …; its length + 1 is the number of attempts. Each delay gets ±20% jitter.',
  },
  WEBHOOK_ALLOWED_NETWORKS: {
    parse: parseCidrList,
    default: '',
    description:
      'CIDR list of non-public networks deliveries may reach, e.g. `127.0.0.0/8,::1/128` for a receiver on this machine. Empty: only public addresses.',
  },
  WEBHOOK_WORKER: { parse: bool, default: 'true', description: '`false` runs the API only: this instance records events but sends nothing.' },
  WEBHOOK_LEASE_MS: {
    parse: parseDurationMs,
    default: '60s',
    description: 'How long a claimed attempt stays locked; an attempt still `sending` after that (a crashed instance) is sent again.',
  },
  WEBHOOK_SWEEP_INTERVAL_MS: {
    parse: parseDurationMs,
    default: '1s',
    description: 'How often the sweeper looks for due retries and events the in-process bus missed.',
  },
  WEBHOOK_MAX_IN_FLIGHT: { parse: int(1, 10000), default: '64', description: 'Concurrent outgoing requests per instance.' },
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: { parse: int(1, 10000), default: '8', description: 'Concurrent outgoing requests to one webhook per instance.' },
  WEBHOOK_DISABLE_AFTER_HOURS: { parse: int(1, 100000), default: '120', description: 'A webhook whose attempts have all failed for this long is disabled.' },
  WEBHOOK_FAILING_AFTER_FAILURES: {
    parse: int(1, 100000),
    default: '5',
    description: 'After this many failed attempts in a row a webhook is reported as failing (the operational event `webhook.endpoint_failing`).',
  },
  EVENT_IDEMPOTENCY_TTL_MS: {
    parse: parseDurationMs,
    default: '24h',
    description:
      'How long an `Idempotency-Key` (or a client-supplied event `id`) of `POST /api/events` is remembered: a repeat within it returns the original event instead of a new one. Expired keys are deleted every few minutes.',
  },
  WEBHOOK_LOG_RETENTION_DAYS: { parse: int(1, 36500), default: '30', description: 'Attempts and events older than this are deleted.' },
  WEBHOOK_RESPONSE_BODY_LIMIT: { parse: int(0, 1024 * 1024), default: '4096', description: 'Bytes of each response body kept in the log.' },
  WEBHOOK_SHUTDOWN_GRACE_MS: {
    parse: parseDurationMs,
    default: '10s',
    description: 'On SIGTERM, how long in-flight attempts may finish before the rest go back to the queue.',
  },
  METRICS_TOKEN: { parse: optional(str(16)), description: 'Bearer token for `GET /metrics` (at least 16 characters).', secret: true },
  METRICS_ALLOWED_NETWORKS: {
    parse: parseCidrList,
    default: '127.0.0.0/8,::1/128',
    description: 'Client networks that may read `GET /metrics` without the token.',
  },
} satisfies Record<string, VariableDefinition<unknown>>;

/** The validated configuration: one property per variable, typed by what its parser returns. */
export type Env = { [K in keyof typeof SCHEMA]: ReturnType<(typeof SCHEMA)[K]['parse']> };

export interface VariableSpec extends VariableDefinition<unknown> {
  name: keyof Env;
}

/** Every variable, in the order the README table and `.env.example` list them. */
export const VARIABLES: VariableSpec[] = (Object.keys(SCHEMA) as Array<keyof Env>).map((name) => ({ name, ...SCHEMA[name] }));

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Parses and validates the environment; throws ConfigValidationError naming every bad variable. */
export function parseEnv(raw: Record<string, string | undefined>): Env {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const spec of VARIABLES) {
    const given = raw[spec.name];
    const value = given === undefined ? (spec.default ?? '') : given;
    try {
      out[spec.name] = spec.parse(value);
    } catch (err) {
      problems.push(`${spec.name} ${(err as Error).message}`);
    }
  }
  // every key of Env was set above from its own parser (or a problem was recorded and we throw below)
  const env = out as Env;
  if (problems.length === 0 && env.NODE_ENV === 'production' && !env.JWT_SECRET) {
    problems.push('JWT_SECRET is required when NODE_ENV=production (at least 32 random characters)');
  }
  if (problems.length) throw new ConfigValidationError(problems);
  return env;
}
