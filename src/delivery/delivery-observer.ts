import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { AttemptOutcome, PreparedAttempt } from './attempt.types';
import { Status } from './attempt-status';

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
  /** JSON lines in production take the fields as an object; elsewhere one readable `key=value` line. */
  private readonly structured: boolean;
  /** Success lines are debug: skip building them (URL parse, formatting) when debug is off. */
  private readonly logSuccesses: boolean;
  private readonly logFailures: boolean;

  constructor(config: AppConfig) {
    this.structured = config.isProduction;
    const level = config.get('LOG_LEVEL');
    this.logSuccesses = level === 'debug' || level === 'verbose';
    this.logFailures = level !== 'error';
  }

  register(listener: AttemptListener): void {
    this.listeners.push(listener);
  }

  attemptFinished(p: PreparedAttempt, outcome: AttemptOutcome): void {
    if (outcome.result.success ? this.logSuccesses : this.logFailures) this.log(p, outcome);
    for (const l of this.listeners) l.attemptFinished(p, outcome);
  }

  private log(p: PreparedAttempt, outcome: AttemptOutcome): void {
    const { attempt, result } = outcome;
    const fields = {
      status: result.success ? Status.Succeeded : Status.Failed,
      webhook_id: attempt.webhookId,
      webhook_host: hostOf(p.webhook.url), // host only: paths and queries may carry tokens
      event_id: attempt.eventId,
      event_type: attempt.eventType,
      attempt: attempt.attempt,
      trigger: attempt.trigger,
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      next_retry_at: outcome.nextRetryAt?.toISOString() ?? null,
    };
    if (result.success) {
      this.logger.debug(this.line('delivery succeeded', fields));
    } else {
      this.logger.warn(this.line('delivery failed', { ...fields, error: result.error }));
    }
  }

  private line(msg: string, fields: Record<string, unknown>): Record<string, unknown> | string {
    if (this.structured) return { msg, ...fields };
    const pairs = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`);
    return `${msg} ${pairs.join(' ')}`;
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
