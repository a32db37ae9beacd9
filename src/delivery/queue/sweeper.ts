import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../../config/app-config';
import { EventsService } from '../../events/events.service';
import { Dispatcher } from './dispatcher';
import { FanOutService } from './fan-out.service';

const SWEEPER = 'delivery-sweeper';
/** Events younger than this are left to the in-process bus. */
const FAN_OUT_GRACE_MS = 1000;
const MAX_CLAIM_ROUNDS = 20;

export interface SweepStats {
  runs: number;
  errors: number;
  lastError: string | null;
  lastRunAt: Date | null;
}

/**
 * The safety net and the retry clock (a @nestjs/schedule interval):
 * fans out events the bus missed (a crash, an emit inside a caller's
 * transaction) and claims due attempts (those whose lease expired included).
 * A failing database only makes a run fail; the next run tries again.
 */
@Injectable()
export class Sweeper implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sweeper');
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly stats: SweepStats = { runs: 0, errors: 0, lastError: null, lastRunAt: null };

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly events: EventsService,
    private readonly fanOut: FanOutService,
    private readonly dispatcher: Dispatcher,
  ) {}

  onApplicationBootstrap(): void {
    const handle = setInterval(() => void this.sweep(), this.config.get('WEBHOOK_SWEEP_INTERVAL_MS'));
    handle.unref();
    this.scheduler.addInterval(SWEEPER, handle);
    setImmediate(() => void this.sweep());
  }

  /** Stops the interval and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', SWEEPER)) this.scheduler.deleteInterval(SWEEPER);
    await this.running;
  }

  /** One pass; never throws. */
  sweep(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      const unfanned = await this.events.findUnfannedIds(500, FAN_OUT_GRACE_MS);
      if (unfanned.length) {
        const n = await this.fanOut.fanOut(unfanned);
        this.logger.log(`Fanned out ${unfanned.length} events the bus had not (${n} attempts)`);
      }
      if (this.dispatcher.isWorker) {
        for (let i = 0; i < MAX_CLAIM_ROUNDS && !this.stopped; i++) {
          if ((await this.dispatcher.claimAndRun()) === 0) break;
        }
      }
      if (this.stats.errors > 0 && this.stats.lastError) {
        this.logger.log('Database reachable again; delivery resumed');
        this.stats.lastError = null;
      }
    } catch (err) {
      this.stats.errors++;
      const message = (err as Error).message;
      if (message !== this.stats.lastError) this.logger.error(`Sweep failed (retrying every interval): ${message}`);
      this.stats.lastError = message;
    } finally {
      this.stats.runs++;
      this.stats.lastRunAt = new Date();
    }
  }
}
