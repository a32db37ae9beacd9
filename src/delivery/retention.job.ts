import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { EventsService } from '../events/events.service';
import { affectedRows } from '../database/query-result';

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
/** Most old events with queued work a run will step around. */
const KEEP_LIMIT = 10_000;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionResult {
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
 * deleting an event cascades to its attempts. Attempts go first, so the
 * event deletes cascade to few rows.
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
    await this.running?.catch(() => undefined);
  }

  /** One full pass (a pass already in progress is shared, not doubled). */
  runOnce(): Promise<RetentionResult> {
    if (!this.running) this.running = this.purge().finally(() => (this.running = null));
    return this.running;
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
    const attempts = await this.inBatches('attempts', () => this.deleteAttempts(cutoff));
    const keep = await this.eventsToKeep(cutoff, days * DAY_MS);
    let events = 0;
    if (keep) events = await this.inBatches('events', () => this.events.deleteOlderThan(cutoff, RETENTION_BATCH, keep));
    else this.logger.warn(`Retention: more than ${KEEP_LIMIT} old events still have queued attempts; events are kept this run`);
    if (attempts || events) {
      this.logger.log(
        `Deleted ${attempts} attempts and ${events} events older than ${days} days (before ${cutoff.toISOString()}) in ${Date.now() - t0} ms`,
      );
    }
    return { attempts, events };
  }

  /** Runs `deleteBatch` until a batch comes back short (or the app stops); returns the total. */
  private async inBatches(what: string, deleteBatch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let batch = 1; !this.stopped; batch++) {
      const n = await deleteBatch();
      total += n;
      if (batch % LOG_EVERY_BATCHES === 0) this.logger.log(`Retention: ${total} ${what} deleted so far (${batch} batches)`);
      if (n < RETENTION_BATCH) break;
      await new Promise((r) => setTimeout(r, RETENTION_PAUSE_MS));
    }
    return total;
  }

  /** One batch of finished attempts (never pending or sending) created before `cutoff`. */
  private async deleteAttempts(cutoff: Date): Promise<number> {
    const res = await this.db.query(
      `DELETE FROM webhook_logs WHERE id IN (
         SELECT id FROM webhook_logs
         WHERE created_at < $1 AND status NOT IN ('pending', 'sending')
         LIMIT $2)`,
      [cutoff, RETENTION_BATCH],
    );
    return affectedRows(res);
  }

  /**
   * Old events that must stay because deleting them would cascade to queued
   * work: those with attempts still pending or sending, and those not fanned
   * out yet. Normally none (the queue drains in hours); null when there are
   * more than KEEP_LIMIT, and events are then left alone this run.
   */
  private async eventsToKeep(cutoff: Date, retentionMs: number): Promise<string[] | null> {
    const queued = (await this.db.query(
      `SELECT DISTINCT l.event_id FROM webhook_logs l JOIN webhook_events e ON e.id = l.event_id
       WHERE l.status IN ('pending', 'sending') AND e.created_at < $1
       LIMIT $2`,
      [cutoff, KEEP_LIMIT + 1],
    )) as Array<{ event_id: string }>;
    const unfanned = await this.events.findUnfannedIds(KEEP_LIMIT + 1, retentionMs);
    const keep = [...new Set([...queued.map((r) => r.event_id), ...unfanned])];
    if (keep.length > KEEP_LIMIT) return null;
    if (keep.length) this.logger.log(`Retention: keeping ${keep.length} old events that still have queued attempts or are not fanned out`);
    return keep;
  }
}
