/**
 * `npm run bench`: measures the delivery engine against this machine's own
 * limit. Starts an embedded PostgreSQL, a receiver process and the built
 * service, runs the scenarios (bench/scenarios/), prints a table, writes
 * bench/results/<date>.json and ends with one key=value line.
 * See bench/README.md.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { generateSecret } from '../src/webhooks/secret';
import { loadConfig } from './config';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup';
import { PgHarness } from './lib/pg';
import { ReceiverControl } from './lib/receiver';
import { Report } from './lib/report';
import { backlogScenario } from './scenarios/backlog';
import { ceilingScenario } from './scenarios/ceiling';
import { Context, Scenario } from './scenarios/context';
import { fanOutScenario } from './scenarios/fan-out';
import { ingestScenario } from './scenarios/ingest';
import { latencyScenario } from './scenarios/latency';
import { readsScenario } from './scenarios/reads';
import { scaleScenario } from './scenarios/scale';
import { throughputScenario } from './scenarios/throughput';

const ALL: Scenario[] = [ceilingScenario, throughputScenario, latencyScenario, ingestScenario, fanOutScenario, backlogScenario, readsScenario, scaleScenario];
const SECRET_VARS = /SECRET|PASSWORD|TOKEN/;

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  installCleanupHandlers();
  Logger.overrideLogger(['error', 'warn']); // the migrations of the template database log at debug level
  const cfg = loadConfig();
  const startedAt = new Date();
  const t0 = performance.now();
  const shownEnv = Object.fromEntries(Object.entries(cfg.serviceEnv).map(([k, v]) => [k, SECRET_VARS.test(k) ? '(set)' : v]));
  const meta: Record<string, unknown> = {
    started_at: startedAt.toISOString(),
    git_commit: git(['rev-parse', 'HEAD']),
    git_dirty_src: (git(['status', '--porcelain', '--', 'src']) ?? '') !== '',
    node: process.version,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    memory_gb: Math.round(totalmem() / 1024 ** 3),
    load_average_at_start: loadavg().map((v) => Math.round(v * 100) / 100),
    quick: cfg.quick,
    scale: cfg.scale,
    runs: cfg.runs,
    scenarios: cfg.only,
    cpu_profile: cfg.cpuProf,
    postgres_fast: cfg.pgFast,
    budget_s: cfg.budgetS,
    receiver_ports: cfg.receiverPorts,
    service_env: shownEnv,
  };
  console.log(
    `ATLAS Webhooks benchmark: ${cfg.only.join(', ')}; scale ${cfg.scale}, up to ${cfg.runs} run(s) per figure${cfg.quick ? ' (--quick)' : ''}, time budget ${cfg.budgetS ? `${cfg.budgetS} s` : 'none'}`,
  );
  console.log(`machine: ${String(meta.cpus)} x ${String(meta.cpu_model)}, ${String(meta.memory_gb)} GB, node ${process.version}`);
  console.log(
    `service env: ${Object.entries(shownEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  console.log(
    `PostgreSQL: embedded, ${cfg.pgFast ? 'fast (fsync, synchronous_commit and full_page_writes off: BENCH_PG_FAST=0 for durable settings)' : 'durable settings (fsync on)'}; pg_stat_statements and track_commit_timestamp on`,
  );

  const pg = await PgHarness.start(cfg.pgFast);
  const [version] = await pg.query<{ server_version: string }>('postgres', 'SHOW server_version');
  meta.postgres_version = version.server_version;
  const secret = generateSecret();
  const receiver = await ReceiverControl.start(cfg.receiverPorts, secret);
  const report = new Report(meta);
  const ctx = new Context(cfg, pg, receiver, report, secret, startedAt);
  console.log(`PostgreSQL ${version.server_version} on port ${pg.port} (${pg.dir}); receiver pid ${receiver.pid} on ports ${receiver.ports.join(',')}\n`);

  for (const scenario of ALL.filter((s) => cfg.only.includes(s.name))) {
    const s0 = performance.now();
    ctx.begin(scenario.name);
    const allotted = ctx.allotted();
    ctx.log(`== ${scenario.name}: ${scenario.title}${Number.isFinite(allotted) ? ` (time budget ${Math.round(allotted)} s)` : ''}`);
    try {
      await scenario.run(ctx);
    } catch (err) {
      const e = err as Error;
      report.errors[scenario.name] = e.message;
      console.error(`scenario ${scenario.name} failed: ${e.stack ?? e.message}`);
    }
    const seconds = Math.round((performance.now() - s0) / 100) / 10;
    report.detail(scenario.name, { scenario_seconds: seconds });
    ctx.log(`== ${scenario.name} done in ${seconds} s\n`);
  }

  meta.total_seconds = Math.round((performance.now() - t0) / 1000);
  meta.load_average_at_end = loadavg().map((v) => Math.round(v * 100) / 100);
  console.log(report.table());
  const file = report.write(startedAt);
  console.log(`\nresults: ${file} (total ${String(meta.total_seconds)} s)`);
  console.log(report.keyValueLine());
  return Object.keys(report.errors).length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err: Error) => {
    console.error(`benchmark failed: ${err.stack ?? err.message}`);
    await cleanupAll();
    process.exit(1);
  });
