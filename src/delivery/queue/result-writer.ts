import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { AttemptStore, NewAttempt } from './attempt-store';
import { AttemptOutcome } from '../attempt.types';
import { MicroBatcher } from './micro-batcher';
import { Status } from '../attempt-status';

const MAX_BATCH = 500;
/**
 * A result waits up to this long for others to share its statements. Its slot
 * is free already (the endpoint is done with it), so nothing waits on it but
 * the log: at moderate load this turns ~10 results a batch into ~50, a fifth
 * of the statements for the database and the driver.
 */
const LINGER_MS = 10;

/**
 * Records finished attempts in batches: one transaction updates every
 * finished row and inserts the scheduled retries, then one statement updates
 * the webhooks' bookkeeping. Callers await their own outcome's write.
 * An outcome lost to a crash before its batch commits is not lost work: its
 * row is still `sending` and is sent again when the lease expires.
 */
@Injectable()
export class ResultWriter {
  private readonly logger = new Logger(ResultWriter.name);
  private readonly batcher = new MicroBatcher<{ outcome: AttemptOutcome; done: (err?: Error) => void }>(MAX_BATCH, (batch) => this.flush(batch), 1, LINGER_MS);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly store: AttemptStore,
    private readonly webhooks: WebhooksService,
  ) {}

  write(outcome: AttemptOutcome): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.batcher.push({ outcome, done: (err) => (err ? reject(err) : resolve()) });
    });
  }

  /** Results waiting to be written. */
  get backlog(): number {
    return this.batcher.size;
  }

  /** Resolves when everything written so far is committed (or has failed). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async flush(batch: Array<{ outcome: AttemptOutcome; done: (err?: Error) => void }>): Promise<void> {
    try {
      await this.persist(batch.map((b) => b.outcome));
      batch.forEach((b) => b.done());
    } catch (err) {
      this.logger.error(`Could not record ${batch.length} attempt results: ${(err as Error).message}`);
      batch.forEach((b) => b.done(err as Error));
    }
  }

  private async persist(outcomes: AttemptOutcome[]): Promise<void> {
    const retries: NewAttempt[] = outcomes
      .filter((o) => o.nextRetryAt)
      .map((o) => ({
        webhookId: o.attempt.webhookId,
        eventId: o.attempt.eventId,
        eventType: o.attempt.eventType,
        attempt: o.attempt.attempt + 1,
        trigger: o.attempt.trigger,
        claimed: false,
        scheduledAt: o.nextRetryAt!,
      }));
    const record = async (m: EntityManager) => {
      // Only attempts still leased: locked_until is set exactly while an attempt is `sending`. Said with
      // locked_until rather than status, so that the rows are looked up by id: `status = 'sending'`
      // matches partial indexes that the planner, on lagging statistics, scanned whole instead
      // (thousands of dead entries for a batch of 80). The batch goes as one JSON parameter, which
      // PostgreSQL parses in C; eleven array parameters were each built and escaped element by
      // element in the driver.
      await m.query(
        `UPDATE webhook_logs AS l SET
           status = CASE WHEN v.success THEN '${Status.Succeeded}' ELSE '${Status.Failed}' END,
           success = v.success, status_code = v.status_code, duration_ms = v.duration_ms, error = v.error,
           request_headers = v.request_headers, response_headers = v.response_headers, response_body = v.response_body,
           next_retry_at = v.next_retry_at, started_at = v.started_at, finished_at = v.finished_at, locked_until = NULL
         FROM json_to_recordset($1::json)
           AS v(id uuid, success boolean, status_code int, duration_ms int, error text, request_headers jsonb, response_headers jsonb,
                response_body text, next_retry_at timestamptz, started_at timestamptz, finished_at timestamptz)
         WHERE l.id = v.id AND l.locked_until IS NOT NULL`,
        [
          JSON.stringify(
            outcomes.map(({ attempt, result, nextRetryAt }) => ({
              id: attempt.id,
              success: result.success,
              status_code: result.statusCode,
              duration_ms: result.durationMs,
              error: result.error,
              request_headers: result.requestHeaders,
              response_headers: result.responseHeaders,
              response_body: result.responseBody,
              next_retry_at: nextRetryAt,
              started_at: result.startedAt,
              finished_at: result.finishedAt,
            })),
          ),
        ],
      );
      await this.store.insert(m, retries, 0);
    };
    // One statement is atomic by itself: the transaction (two more round trips) only when retries go with it.
    if (retries.length === 0) await record(this.db.manager);
    else await this.db.transaction(record);
    await this.webhooks.recordAttemptResults(
      outcomes.map((o) => ({ webhookId: o.attempt.webhookId, success: o.result.success, finishedAt: o.result.finishedAt, error: o.result.error })),
    );
  }
}
