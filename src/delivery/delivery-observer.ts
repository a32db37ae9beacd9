import { Injectable, Logger } from '@nestjs/common';
import type { AttemptOutcome } from './attempt.types';
import type { PreparedAttempt } from './dispatcher';

export interface AttemptListener {
  attemptFinished(p: PreparedAttempt, outcome: AttemptOutcome): void;
}

/**
 * Where finished attempts are reported: one structured log line each (debug;
 * failures at warn), and any registered listeners (metrics).
 */
@Injectable()
export class DeliveryObserver {
  private readonly logger = new Logger('Delivery');
  private readonly listeners: AttemptListener[] = [];

  register(listener: AttemptListener): void {
    this.listeners.push(listener);
  }

  attemptFinished(p: PreparedAttempt, outcome: AttemptOutcome): void {
    const { attempt, result } = outcome;
    const fields = {
      webhook_id: attempt.webhookId,
      event_id: attempt.eventId,
      event_type: attempt.eventType,
      attempt: attempt.attempt,
      trigger: attempt.trigger,
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      next_retry_at: outcome.nextRetryAt?.toISOString() ?? null,
    };
    if (result.success) {
      this.logger.debug({ msg: 'delivery succeeded', ...fields });
    } else {
      this.logger.warn({ msg: 'delivery failed', ...fields, error: result.error });
    }
    for (const l of this.listeners) l.attemptFinished(p, outcome);
  }
}
