/**
 * What the benchmark runs and at which size, from the command line and the
 * environment (see bench/README.md).
 */
export const SCENARIOS = ['ceiling', 'throughput', 'latency', 'ingest', 'fanout', 'backlog', 'reads', 'scale'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** Run only when named in BENCH_ONLY: `scale` seeds 10,000,000 attempts, which does not fit the default 10-minute run. */
export const ON_REQUEST_ONLY: readonly ScenarioName[] = ['scale'];

export interface BenchConfig {
  quick: boolean;
  /** Multiplies every size and duration (BENCH_SCALE; --quick means 0.1). */
  scale: number;
  /** Runs per figure, the figure being their median (BENCH_RUNS; default 3, --quick 1). */
  runs: number;
  only: ScenarioName[];
  /** BENCH_CPU_PROF=1: the service runs under --cpu-prof; profiles land in bench/results/profiles/. */
  cpuProf: boolean;
  /** BENCH_PG_FAST (default 1): PostgreSQL with fsync/synchronous_commit/full_page_writes off. */
  pgFast: boolean;
  /**
   * Seconds the scenarios may take together (BENCH_BUDGET_S; default 490 so
   * that `npm run bench`, build (~40 s) and start-up included, ends in about
   * 8.5–9 minutes, within the 10 of issue 10; 0: no limit).
   * Each scenario gets a share; a scenario stops repeating runs when the next
   * would not fit, and the delivery-volume scenarios (throughput, backlog)
   * shrink from their nominal size when it would not fit at the rate expected.
   */
  budgetS: number;
  /** Ports the receiver listens on; webhook i uses port i mod n, so each webhook is its own origin. */
  receiverPorts: number;
  /** Environment of the service child (printed at the start). */
  serviceEnv: Record<string, string>;
}

const SERVICE_DEFAULTS: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  JWT_SECRET: 'bench-jwt-secret-0123456789-abcdefghijklmnop',
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD: 'bench-admin-password',
  LOGIN_RATE_LIMIT: '100000',
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
  WEBHOOK_MAX_IN_FLIGHT: '64',
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '8',
  DB_POOL_SIZE: '10',
  WEBHOOK_SWEEP_INTERVAL_MS: '1s',
  WEBHOOK_LEASE_MS: '60s',
};

function number(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

export function loadConfig(argv: string[] = process.argv.slice(2)): BenchConfig {
  const quick = argv.includes('--quick') || flag('BENCH_QUICK', false);
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length) throw new Error(`unknown argument(s): ${unknown.join(' ')} (only --quick; the rest is set with BENCH_* variables)`);
  const onlyRaw = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of onlyRaw) {
    if (!SCENARIOS.includes(s as ScenarioName)) throw new Error(`BENCH_ONLY: unknown scenario "${s}"; known: ${SCENARIOS.join(', ')}`);
  }
  const serviceEnv = { ...SERVICE_DEFAULTS };
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BENCH_SVC_') && v !== undefined) serviceEnv[k.slice('BENCH_SVC_'.length)] = v;
  }
  return {
    quick,
    scale: number('BENCH_SCALE', quick ? 0.1 : 1),
    runs: Math.max(1, Math.round(number('BENCH_RUNS', quick ? 1 : 3))),
    only: onlyRaw.length ? (onlyRaw as ScenarioName[]) : SCENARIOS.filter((s) => !ON_REQUEST_ONLY.includes(s)),
    cpuProf: flag('BENCH_CPU_PROF', false),
    pgFast: flag('BENCH_PG_FAST', true),
    budgetS: process.env.BENCH_BUDGET_S === '0' ? 0 : number('BENCH_BUDGET_S', 490),
    receiverPorts: Math.max(1, Math.round(number('BENCH_RECEIVER_PORTS', 10))),
    serviceEnv,
  };
}

/**
 * Relative share of the time budget per scenario (of the default 490 s:
 * ceiling ~29 s, throughput ~118, latency ~108, ingest ~54, fanout ~34,
 * backlog ~59, reads ~88). Each is what the scenario needs on this 2-core
 * machine at the sizes it chooses within its share (bench/README.md, "Time
 * budget"): reads' share covers its fixed cost (seeding 1,000,000 attempts,
 * ~55 s) and one run, which it had to take from nothing when it came last
 * with a share of a few seconds.
 */
export const BUDGET_WEIGHTS: Record<ScenarioName, number> = {
  ceiling: 6,
  throughput: 24,
  latency: 22,
  ingest: 11,
  fanout: 7,
  backlog: 12,
  reads: 18,
  scale: 100,
};

/** A size scaled by BENCH_SCALE, never below `min`. */
export function scaled(cfg: BenchConfig, full: number, min: number): number {
  return Math.max(min, Math.round(full * cfg.scale));
}
