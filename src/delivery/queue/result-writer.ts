import { Injectable, Logger } from '@nestjs/common';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { AttemptStore } from './attempt-store';
import { AttemptOutcome } from '../attempt.types';
import { MicroBatcher } from '../../common/micro-batcher';
import { summarizeResults } from './result-summary';
import { isOperationalType } from '../../events/event-catalogue';

const MAX_BATCH = 500;
/**
 * A result waits up to this long for others to share its statements. Its slot
 * is free already (the endpoint is done with it), so nothing waits on it but
 * the log, and batches grow several times larger at moderate load
 * (docs/engine.md).
 */
const LINGER_MS = 10;

/**
 * Records finished attempts in batches: one statement moves every finished
 * attempt from the queue to the log and queues the scheduled retries
 * (AttemptStore.recordResults), then one statement updates the webhooks'
 * bookkeeping. Callers await their own outcome's write. An outcome lost to a
 * crash before its batch commits is not lost work: its row is still leased
 * in the queue and is sent again when the lease expires.
 */
@Injectable()
export class ResultWriter {
  private readonly logger = new Logger(ResultWriter.name);
  private readonly batcher = new MicroBatcher<{ outcome: AttemptOutcome; done: (err?: Error) => void }>(MAX_BATCH, (batch) => this.flush(batch), 1, LINGER_MS);

  constructor(
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

  /** Resolves once fewer than `n` results wait to be written. */
  backlogBelow(n: number): Promise<void> {
    return this.batcher.sizeBelow(n);
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

  /** The attempts' results and the webhooks' bookkeeping, two statements sent together (each on its own connection). */
  private async persist(outcomes: AttemptOutcome[]): Promise<void> {
    const recorded = this.store.recordResults(
      outcomes.map(({ attempt, result, nextRetryAt }) => ({
        id: attempt.id,
        success: result.success,
        status_code: result.statusCode,
        duration_ms: result.durationMs,
        error: result.error,
        request_headers: result.requestHeaders,
        response_headers: result.responseHeaders,
        response_body: result.responseBody,
        next_retry_ms: nextRetryAt === null ? null : nextRetryAt.getTime(),
        started_ms: result.startedAt.getTime(),
        finished_ms: result.finishedAt.getTime(),
      })),
    );
    const summarized = this.webhooks.applyDeliverySummaries(
      summarizeResults(
        outcomes.map((o) => ({
          webhookId: o.attempt.webhookId,
          success: o.result.success,
          finishedAt: o.result.finishedAt,
          error: o.result.error,
          statusCode: o.result.statusCode,
          // delivering the operational events does not feed the streak they report on (README, "Operational events")
          countsForStreak: !isOperationalType(o.attempt.eventType),
        })),
      ),
    );
    const [exhausted] = await Promise.all([recorded, summarized]);
    if (exhausted.length) {
      this.webhooks.raiseAttemptsExhausted(exhausted).catch((err: Error) => this.logger.warn(`Could not raise attempts_exhausted events: ${err.message}`));
    }
  }
}
