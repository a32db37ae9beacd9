import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { EventsService } from '../events/events.service';
import type { PurgeCursor } from '../events/events.types';
import { AttemptStore } from './queue/attempt-store';
import { affectedRows } from '../database/query-result';
import { Status } from './attempt-status';

export const RETENTION_INTERVAL = 'delivery-retention';
export const RETENTION_FIRST_RUN = 'delivery-retention-first-run';
/** How often the job runs on a worker instance. */
export const RETENTION_EVERY_MS = 60 * 60 * 1000;
/** The first run after start-up, once the instance has settled (then hourly). */
export const RETENTION_FIRST_RUN_DELAY_MS = 60 * 1000;
/** Rows per DELETE statement: short statements, short locks, small WAL bursts. */
export const RETENTION_BATCH = 5_000;
/** Pause between two batches, so delivery traffic keeps its share of the database. */
export const RETENTION_PAUSE_MS = 50;
/** One progress line per this many batches. */
const LOG_EVERY_BATCHES = 20;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The session-level advisory lock that keeps retention to one instance at a
 * time (any 64-bit number no other code uses; the migrations have their own).
 */
export const RETENTION_LOCK_KEY = '4705233031416481102';

export interface RetentionResult {
  /** True when another instance held the retention lock: this run did nothing. */
  skipped?: true;
  /** Attempts (webhook_logs rows) deleted directly. */
  attempts: number;
  /** Events deleted (attempts they still had went with them through the foreign key cascade). */
  events: number;
}

/**
 * Deletes attempts and events older than WEBHOOK_LOG_RETENTION_DAYS, in
 * batches, on worker instances only (WEBHOOK_WORKER=false instances never run
 * it). Queued work is never deleted: attempts still `pending` or `sending`
 * stay, and so do their events (and any event not fanned out yet), because
 * deleting an event cascades to its attempts; the check runs with the
 * event rows locked, so an attempt queued meanwhile (a retry, a redeliver)
 * cannot be swept away with its event. Attempts go first, so the event
 * deletes cascade to few rows.
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
    const first = setTimeout(() => void this.runScheduled(), RETENTION_FIRST_RUN_DELAY_MS);
    first.unref();
    this.scheduler.addTimeout(RETENTION_FIRST_RUN, first);
    const every = setInterval(() => void this.runScheduled(), RETENTION_EVERY_MS);
    every.unref();
    this.scheduler.addInterval(RETENTION_INTERVAL, every);
  }

  /** Stops the schedule; a run in progress stops after its current batch. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('timeout', RETENTION_FIRST_RUN)) this.scheduler.deleteTimeout(RETENTION_FIRST_RUN);
    if (this.scheduler.doesExist('interval', RETENTION_INTERVAL)) this.scheduler.deleteInterval(RETENTION_INTERVAL);
    // a failed run was logged where it failed (runScheduled); shutdown only waits for it to end
    await this.running?.catch(() => undefined);
  }

  /**
   * One full pass (a pass already in progress here is shared, not doubled),
   * under the retention lock: when another instance holds it, this pass is
   * skipped rather than run beside it.
   */
  runOnce(): Promise<RetentionResult> {
    if (!this.running) this.running = this.purgeLocked().finally(() => (this.running = null));
    return this.running;
  }

  private async purgeLocked(): Promise<RetentionResult> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RETENTION_LOCK_KEY])) as Array<{ locked: boolean }>;
      if (!locked) {
        this.logger.log('Retention: another instance is running it; skipped');
        return { skipped: true, attempts: 0, events: 0 };
      }
      try {
        return await this.purge();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }

  private async runScheduled(): Promise<void> {
    try {
      await this.runOnce();
    } catch (err) {
      this.logger.error(`Retention run failed (next run in an hour): ${(err as Error).message}`);
    }
  }

  private async purge(): Promise<RetentionResult> {
    const days = this.config.get('WEBHOOK_LOG_RETENTION_DAYS');
    const cutoff = new Date(Date.now() - days * DAY_MS);
    const t0 = Date.now();
    const attempts = await this.inBatches('attempts', async () => {
      const n = await this.deleteAttempts(cutoff);
      return { deleted: n, more: n === RETENTION_BATCH };
    });
    let after: PurgeCursor | null = null;
    let kept = 0;
    const events = await this.inBatches('events', async () => {
      const batch = await this.events.deleteOlderThan(cutoff, RETENTION_BATCH, { after, stillNeeded: this.stillNeeded });
      after = batch.next;
      kept += batch.scanned - batch.deleted;
      return { deleted: batch.deleted, more: batch.scanned === RETENTION_BATCH };
    });
    if (kept) this.logger.log(`Retention: kept ${kept} old events that still have queued attempts`);
    if (attempts || events) {
      this.logger.log(`Deleted ${attempts} attempts and ${events} events older than ${days} days (before ${cutoff.toISOString()}) in ${Date.now() - t0} ms`);
    }
    return { attempts, events };
  }

  /**
   * Events with queued work stay: deleting an event cascades to its attempts.
   * Runs inside the event delete's transaction, with the batch locked.
   */
  private readonly stillNeeded = (manager: EntityManager, ids: string[]) => this.store.eventsWithQueuedWork(manager, ids);

  /** Runs `deleteBatch` until it says there is no more (or the app stops); returns the total deleted. */
  private async inBatches(what: string, deleteBatch: () => Promise<{ deleted: number; more: boolean }>): Promise<number> {
    let total = 0;
    for (let batch = 1; !this.stopped; batch++) {
      const { deleted, more } = await deleteBatch();
      total += deleted;
      if (batch % LOG_EVERY_BATCHES === 0) this.logger.log(`Retention: ${total} ${what} deleted so far (${batch} batches)`);
      if (!more) break;
      await new Promise((r) => setTimeout(r, RETENTION_PAUSE_MS));
    }
    return total;
  }

  /** One batch of finished attempts (never pending or sending) created before `cutoff`. */
  private async deleteAttempts(cutoff: Date): Promise<number> {
    const res: unknown = await this.db.query(
      `DELETE FROM webhook_logs WHERE id IN (
         SELECT id FROM webhook_logs
         WHERE created_at < $1 AND status NOT IN ('${Status.Pending}', '${Status.Sending}')
         LIMIT $2)`,
      [cutoff, RETENTION_BATCH],
    );
    return affectedRows(res);
  }
}
