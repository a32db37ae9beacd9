/**
 * The benchmark's PostgreSQL: one embedded server in a temporary folder, a
 * migrated template database, and a fresh copy of it per scenario.
 *
 * Settings added for diagnosis (they need a restart, done once):
 * `track_commit_timestamp` (the fan-out scenario reads when the fan-out
 * transaction committed), `pg_stat_statements` (the time each statement of
 * the engine took) and `auto_explain`, idle (log_min_duration -1) until
 * `capturePlans` switches it on with a reload, which reaches the service's
 * open connections too: the plans captured are those of the very queries the
 * service ran, with their real parameters.
 */
import 'reflect-metadata';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { freePort } from '../../src/common/free-port';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { onCleanup } from './cleanup';

export { freePort };

const TEMPLATE = 'bench_template';

export class PgHarness {
  private readonly logListeners = new Set<(line: string) => void>();

  private constructor(
    private server: EmbeddedPostgres,
    readonly dir: string,
    readonly port: number,
    readonly fast: boolean,
  ) {}

  /** Starts the server (data under os.tmpdir(), mode 0755 so the postgres user can enter it when we run as root) and migrates the template. */
  static async start(fast: boolean): Promise<PgHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-'));
    chmodSync(dir, 0o755);
    const port = await freePort();
    const dataDir = join(dir, 'pg');
    // the server's log callback needs the harness, which needs the server
    const ref: { harness?: PgHarness } = {};
    const server = new EmbeddedPostgres({ dataDir, port, fast, onLog: (line) => ref.harness?.logListeners.forEach((l) => l(line)) });
    const harness = (ref.harness = new PgHarness(server, dir, port, fast));
    onCleanup(
      'PostgreSQL',
      async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      () => {
        // synchronous last resort: immediate shutdown of the postmaster
        const pidFile = join(dataDir, 'postmaster.pid');
        if (existsSync(pidFile)) {
          const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
          if (pid) process.kill(pid, 'SIGQUIT');
        }
      },
    );
    await server.start();
    await harness.query('postgres', `ALTER SYSTEM SET track_commit_timestamp = on`);
    await harness.query('postgres', `ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements, auto_explain`);
    await harness.query('postgres', `ALTER SYSTEM SET auto_explain.log_min_duration = -1`);
    await server.stop();
    await server.start();
    await harness.query('postgres', 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await harness.query('postgres', `CREATE DATABASE ${TEMPLATE}`);
    const ds = new DataSource({ ...dataSourceOptions(server.url(TEMPLATE), 1), logging: false });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    return harness;
  }

  url(database: string): string {
    return this.server.url(database);
  }

  /** A fresh migrated database (a copy of the template). */
  async createDatabase(name: string): Promise<string> {
    await this.query('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await this.query('postgres', `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
    return this.url(name);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  async connect(database: string): Promise<Client> {
    const client = new Client({ connectionString: this.url(database), application_name: 'atlas-bench' });
    client.on('error', () => undefined); // a server going away fails the pending query; no crash besides
    await client.connect();
    return client;
  }

  /** One statement on a short-lived connection. */
  async query<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = await this.connect(database);
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** The postmaster's pid (for CPU accounting of the server and its backends). */
  postmasterPid(): number | null {
    const pidFile = join(this.dir, 'pg', 'postmaster.pid');
    if (!existsSync(pidFile)) return null;
    return Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || null;
  }

  /**
   * Runs `fn` with auto_explain logging EXPLAIN (ANALYZE, BUFFERS) of every
   * statement, and returns the plans ("Query Text: …" then the plan) `keep` accepts.
   * (Timing every plan node slows queries down: never around a timed phase.)
   */
  async capturePlans(fn: () => Promise<void>, keep: (planText: string) => boolean): Promise<CapturedPlan[]> {
    const plans: Array<{ duration_ms: number; lines: string[] }> = [];
    let current: { duration_ms: number; lines: string[] } | null = null;
    const listener = (line: string) => {
      if (LOG_PREFIX.test(line)) {
        const m = /duration: ([\d.]+) ms\s+plan:/.exec(line);
        current = m ? { duration_ms: Number(m[1]), lines: [] } : null;
        if (current) plans.push(current);
      } else if (current) {
        current.lines.push(line.replace(/^\t/, ''));
      }
    };
    const settings: Array<[string, string]> = [
      ['auto_explain.log_analyze', 'on'],
      ['auto_explain.log_buffers', 'on'],
      ['auto_explain.log_timing', 'on'],
      ['auto_explain.log_format', 'text'],
      ['auto_explain.log_min_duration', '0'],
    ];
    this.logListeners.add(listener);
    try {
      for (const [k, v] of settings) await this.query('postgres', `ALTER SYSTEM SET ${k} = '${v}'`);
      await this.query('postgres', 'SELECT pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 300));
      await fn();
    } finally {
      await this.query('postgres', `ALTER SYSTEM SET auto_explain.log_min_duration = -1`);
      for (const [k] of settings.slice(0, -1)) await this.query('postgres', `ALTER SYSTEM RESET ${k}`);
      await this.query('postgres', 'SELECT pg_reload_conf()');
      await new Promise((r) => setTimeout(r, 300));
      this.logListeners.delete(listener);
    }
    return plans.map((p) => ({ duration_ms: p.duration_ms, plan: p.lines.join('\n').trim() })).filter((p) => keep(p.plan));
  }

  async resetStatements(): Promise<void> {
    await this.query('postgres', 'SELECT pg_stat_statements_reset()');
  }

  /** The statements of `database` that took the most time since the last reset. */
  async topStatements(database: string, limit = 12): Promise<StatementStat[]> {
    const rows = await this.query<{ query: string; calls: string; total_ms: number; mean_ms: number; rows: string }>(
      'postgres',
      `SELECT s.query, s.calls, s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms, s.rows
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1
       ORDER BY s.total_exec_time DESC LIMIT $2`,
      [database, limit],
    );
    return rows.map((r) => ({
      query: r.query.replace(/\s+/g, ' ').slice(0, 300),
      calls: Number(r.calls),
      total_ms: Math.round(r.total_ms),
      mean_ms: Math.round(r.mean_ms * 1000) / 1000,
      rows: Number(r.rows),
    }));
  }
}

export interface CapturedPlan {
  duration_ms: number;
  /** EXPLAIN (ANALYZE, BUFFERS) text as auto_explain logged it, "Query Text:" first. */
  plan: string;
}

const LOG_PREFIX = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;

export interface StatementStat {
  query: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  rows: number;
}
