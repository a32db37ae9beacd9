import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { createDailyPartitions, dropDailyPartitionsBefore } from '../database/daily-partitions';
import { affectedRows } from '../database/query-result';
import { EventsService } from '../events/events.service';
import { AttemptStore } from './queue/attempt-store';

export const RETENTION_INTERVAL = 'delivery-retention';
export const RETENTION_FIRST_RUN = 'delivery-retention-first-run';
/** How often the job runs on a worker instance. */
export const RETENTION_EVERY_MS = 60 * 60 * 1000;
/** The first retention run after start-up, once the instance has settled (then hourly). */
export const RETENTION_FIRST_RUN_DELAY_MS = 60 * 1000;
/** Days of partitions kept created ahead of today (and one behind, for clocks a little off). */
export const PARTITION_DAYS_AHEAD = 7;

const DAY_MS = 24 * 60 * 60 * 1000;
const LOG_TABLE = 'webhook_logs';

/**
 * The session-level advisory lock that keeps partition upkeep and retention
 * to one instance at a time (any 64-bit number no other code uses; the
 * migrations have their own).
 */
export const RETENTION_LOCK_KEY = '4705233031416481102';

export interface RetentionResult {
  /** True when another instance held the lock: this run did nothing. */
  skipped?: true;
  /** Daily partitions created ahead, of the attempt log and of the event store. */
  created: string[];
  /** Daily partitions dropped: whole days older than WEBHOOK_LOG_RETENTION_DAYS. */
  dropped: string[];
  /** Old rows deleted from the default partitions (rows of days that had no partition). */
  deletedRows: number;
}

/**
 * The attempt log and the event store are partitioned by day. This job, on
 * worker instances and one instance at a time: keeps the partitions of the
 * next days created (at start-up and hourly), and drops the days older than
 * WEBHOOK_LOG_RETENTION_DAYS — a DROP of a day's table, not a DELETE of its
 * rows. The queue is never touched: the event days its attempts still need
 * stay, and so do events not fanned out yet.
 */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private running: Promise<RetentionResult> | null = null;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly store: AttemptStore,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('WEBHOOK_WORKER')) return;
    // the days ahead at once (the migration created a week of them; this keeps them coming)
    setImmediate(() => void this.runScheduled(false));
    const first = setTimeout(() => void this.runScheduled(true), RETENTION_FIRST_RUN_DELAY_MS);
    first.unref();
    this.scheduler.addTimeout(RETENTION_FIRST_RUN, first);
    const every = setInterval(() => void this.runScheduled(true), RETENTION_EVERY_MS);
    every.unref();
    this.scheduler.addInterval(RETENTION_INTERVAL, every);
  }

  /** Stops the schedule and waits for a run in progress. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('timeout', RETENTION_FIRST_RUN)) this.scheduler.deleteTimeout(RETENTION_FIRST_RUN);
    if (this.scheduler.doesExist('interval', RETENTION_INTERVAL)) this.scheduler.deleteInterval(RETENTION_INTERVAL);
    // a failed run was logged where it failed (runScheduled); shutdown only waits for it to end
    await this.running?.catch(() => undefined);
  }

  /**
   * One full pass: partitions ahead, then retention (unless `retention` is
   * false). A pass already in progress here is shared, not doubled; when
   * another instance holds the lock, this pass is skipped.
   */
  runOnce(retention = true): Promise<RetentionResult> {
    if (!this.running) this.running = this.locked(retention).finally(() => (this.running = null));
    return this.running;
  }

  private async runScheduled(retention: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      await this.runOnce(retention);
    } catch (err) {
      this.logger.error(`Partition upkeep or retention failed (tried again within the hour): ${(err as Error).message}`);
    }
  }

  private async locked(retention: boolean): Promise<RetentionResult> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RETENTION_LOCK_KEY])) as Array<{ locked: boolean }>;
      if (!locked) {
        this.logger.log('Retention: another instance is running it; skipped');
        return { skipped: true, created: [], dropped: [], deletedRows: 0 };
      }
      try {
        return await this.pass(retention);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }

  private async pass(retention: boolean): Promise<RetentionResult> {
    const from = new Date(Date.now() - DAY_MS);
    const days = PARTITION_DAYS_AHEAD + 2;
    const created = [...(await createDailyPartitions(this.db, LOG_TABLE, from, days)), ...(await this.events.ensurePartitions(from, days))];
    if (created.length) this.logger.log(`Created partitions ${created.join(', ')}`);
    const result: RetentionResult = { created, dropped: [], deletedRows: 0 };
    if (!retention || this.stopped) return result;

    const t0 = Date.now();
    const retentionDays = this.config.get('WEBHOOK_LOG_RETENTION_DAYS');
    const cutoff = new Date(Date.now() - retentionDays * DAY_MS);
    const logDays = await dropDailyPartitionsBefore(this.db, LOG_TABLE, cutoff);
    const logRows = affectedRows(await this.db.query<unknown>(`DELETE FROM ${LOG_TABLE}_default WHERE created_at < $1`, [cutoff]));
    // events that queued attempts still need stay, with their day
    const events = await this.events.dropOlderThan(cutoff, await this.store.queuedEventDaysBefore(cutoff));
    result.dropped = [...logDays, ...events.partitions];
    result.deletedRows = logRows + events.rows;
    if (result.dropped.length || result.deletedRows) {
      this.logger.log(
        `Retention (${retentionDays} days, before ${cutoff.toISOString()}): dropped ${result.dropped.join(', ') || 'no partition'}, ` +
          `deleted ${result.deletedRows} rows of default partitions, in ${Date.now() - t0} ms`,
      );
    }
    return result;
  }
}
