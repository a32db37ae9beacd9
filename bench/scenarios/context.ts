/** What every scenario gets from the orchestrator. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUDGET_WEIGHTS, BenchConfig, SCENARIOS, ScenarioName } from '../config';
import { ApiClient } from '../lib/api';
import type { PgHarness } from '../lib/pg';
import { CpuTarget } from '../lib/proc';
import { formatProfile, ProfileSummary, summarizeProfile } from '../lib/profile';
import type { ReceiverControl } from '../lib/receiver';
import type { Report } from '../lib/report';
import { PROFILE_ROOT, ServiceHandle, startService } from '../lib/service';

export interface Scenario {
  name: ScenarioName;
  title: string;
  run(ctx: Context): Promise<void>;
}

export class Context {
  /** Set by the ceiling scenario (or measured on demand): the engine client's ceiling in requests/s. */
  ceilingRps?: number;
  /** Set by the throughput scenario: deliveries/s. */
  throughputDps?: number;
  /** Set by the throughput scenario: the minimal sender's deliveries/s. */
  minimalDps?: number;
  private readonly profileStamp: string;
  private scenarioStart = 0;
  private scenarioAllotted = Infinity;
  private readonly benchStart = performance.now();

  constructor(
    readonly cfg: BenchConfig,
    readonly pg: PgHarness,
    readonly receiver: ReceiverControl,
    readonly report: Report,
    /** The signing secret of every benchmark webhook (the receiver checks a sample of signatures with it). */
    readonly secret: string,
    startedAt: Date,
  ) {
    this.profileStamp = startedAt
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z');
  }

  /** Called by the orchestrator as each scenario begins (its time budget counts from here). */
  begin(name: ScenarioName): void {
    this.scenarioStart = performance.now();
    if (!this.cfg.budgetS) {
      this.scenarioAllotted = Infinity;
      return;
    }
    // this scenario's weighted share of what is left (time earlier scenarios did not use carries forward)
    const left = this.cfg.budgetS - (this.scenarioStart - this.benchStart) / 1000;
    const ahead = SCENARIOS.slice(SCENARIOS.indexOf(name)).filter((s) => this.cfg.only.includes(s));
    const weights = ahead.reduce((sum, s) => sum + BUDGET_WEIGHTS[s], 0);
    this.scenarioAllotted = Math.max(0, (left * BUDGET_WEIGHTS[name]) / weights);
  }

  /** Seconds this scenario may take (Infinity without a budget). */
  allotted(): number {
    return this.scenarioAllotted;
  }

  /** Seconds left of this scenario's budget. */
  remaining(): number {
    return this.allotted() - (performance.now() - this.scenarioStart) / 1000;
  }

  /**
   * Runs `fn` up to BENCH_RUNS times, fewer when the next run (estimated by
   * the longest so far) would overrun `share` of the scenario's remaining
   * time; always once. Returns how many runs were made.
   */
  async repeat(label: string, fn: (run: number) => Promise<void>, share = 1): Promise<number> {
    const budget = this.remaining() * share;
    const t0 = performance.now();
    let longest = 0;
    let r = 0;
    for (; r < this.cfg.runs; r++) {
      const elapsed = (performance.now() - t0) / 1000;
      if (r > 0 && elapsed + longest > budget) {
        this.log(`  ${label}: ${r} of ${this.cfg.runs} runs (the next would overrun the time budget, BENCH_BUDGET_S)`);
        break;
      }
      const s0 = performance.now();
      await fn(r);
      longest = Math.max(longest, (performance.now() - s0) / 1000);
    }
    return r;
  }

  log(message: string): void {
    const t = new Date().toISOString().slice(11, 19);
    console.log(`[${t}] ${message}`);
  }

  /**
   * Starts the service on `databaseUrl`; with BENCH_CPU_PROF=1 under
   * --cpu-prof, the profile summarised into the report when it stops.
   */
  async startService(scenario: string, databaseUrl: string, overrides: Record<string, string> = {}, onSpawn?: (pid: number) => void): Promise<ServiceHandle> {
    const dir = this.cfg.cpuProf ? join(PROFILE_ROOT, this.profileStamp, scenario) : undefined;
    const svc = await startService({ databaseUrl, env: this.cfg.serviceEnv, overrides, cpuProfDir: dir, onSpawn });
    const stop = svc.stop.bind(svc);
    svc.stop = async () => {
      const before = dir ? new Set(readdirSync(dir)) : new Set<string>();
      await stop();
      if (!dir) return;
      const fresh = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
      for (const f of fresh) {
        const summary = summarizeProfile(join(dir, f), 20);
        console.log(formatProfile(summary));
        const details = (this.report.details[scenario] ?? {}) as { profiles?: ProfileSummary[] };
        this.report.detail(scenario, { profiles: [...(details.profiles ?? []), summary] });
      }
    };
    return svc;
  }

  login(svc: ServiceHandle, connections = 16): Promise<ApiClient> {
    return ApiClient.login(svc.baseUrl, this.cfg.serviceEnv.ADMIN_USERNAME, this.cfg.serviceEnv.ADMIN_PASSWORD, connections);
  }

  cpuTargets(svc?: ServiceHandle): CpuTarget[] {
    const targets: CpuTarget[] = [
      { name: 'bench', pid: process.pid },
      { name: 'receiver', pid: this.receiver.pid },
    ];
    if (svc) targets.push({ name: 'service', pid: svc.pid });
    const pm = this.pg.postmasterPid();
    if (pm) targets.push({ name: 'postgres', pid: pm, children: true });
    return targets;
  }

  /** Creates `n` webhooks through the API, webhook i on receiver port i. */
  async createWebhooks(api: ApiClient, n: number, events: string[] = ['service.started'], prefix = 'bench'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await api.createWebhook({ url: this.receiver.url(i), name: `${prefix}-${i}`, events, secret: this.secret }));
    return ids;
  }
}
