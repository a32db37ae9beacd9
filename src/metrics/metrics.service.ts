import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { collectDefaultMetrics, Counter, Gauge, Metric, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram';
import type { AttemptOutcome } from '../delivery/attempt.types';
import { AttemptListener, DeliveryObserver } from '../delivery/delivery-observer';
import type { PreparedAttempt } from '../delivery/attempt.types';
import { Dispatcher } from '../delivery/queue/dispatcher';
import { Sweeper } from '../delivery/queue/sweeper';
import { EVENT_RECORDED, EventRecordedPayload } from '../events/event-bus';
import { DURATION_BUCKETS_SECONDS, statusClass } from './attempt-labels';
import { QueueSnapshot, QueueSnapshotService } from '../delivery/api/queue-snapshot.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { Status } from '../delivery/attempt-status';

/** What one scrape reads from the database: the queue (delivery's) and the disabled webhooks (the registry's). */
type ScrapeSnapshot = QueueSnapshot & { disabledWebhooks: number };

/** A scrape waits at most this long for the queue query. */
const SNAPSHOT_TIMEOUT_MS = 2000;

/**
 * The Prometheus metrics of this instance, in a registry of its own (several
 * apps in one process, as in the e2e tests, do not share series). Labels are
 * low-cardinality only: never a webhook id, URL or secret.
 *
 * - Counted in process, as attempts finish: attempts by result, status class
 *   and trigger, and their durations; events recorded, by type.
 * - Read at scrape time: the queue and disabled webhooks (one SQL statement,
 *   the database's view, the same from every instance), in-flight requests
 *   and the sweeper's counters (this instance).
 */
@Injectable()
export class MetricsService implements OnModuleInit, AttemptListener {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  /** Attempts counted since the last scrape, by label set; added to the counter when it is collected (no label hashing per attempt). */
  private readonly attemptCounts = new Map<string, { labels: Record<'result' | 'status_class' | 'trigger', string>; n: number }>();
  private readonly duration: BucketHistogram;
  private readonly eventsRecorded: Counter<'type'>;
  private snapshotInFlight: Promise<ScrapeSnapshot | null> | null = null;
  private lastSnapshotError: string | null = null;

  constructor(
    private readonly queue: QueueSnapshotService,
    private readonly webhooks: WebhooksService,
    private readonly observer: DeliveryObserver,
    dispatcher: Dispatcher,
    sweeper: Sweeper,
  ) {
    const registers = [this.registry];
    // process_* and nodejs_* under their usual names, so stock Node.js dashboards work
    collectDefaultMetrics({ register: this.registry });

    const attemptCounts = this.attemptCounts;
    new Counter({
      name: 'atlas_webhooks_attempts_total',
      help: 'Finished delivery attempts by result (succeeded|failed), HTTP status class (2xx..5xx, none when no response) and trigger (event|test|redeliver|recover).',
      labelNames: ['result', 'status_class', 'trigger'],
      registers,
      collect(this: Counter<'result' | 'status_class' | 'trigger'>) {
        for (const c of attemptCounts.values()) {
          if (c.n > 0) this.inc(c.labels, c.n);
          c.n = 0;
        }
      },
    });
    this.duration = new BucketHistogram(
      'atlas_webhooks_attempt_duration_seconds',
      'Duration of finished delivery attempts, from sending the request to the end of the response (or the failure).',
      DURATION_BUCKETS_SECONDS,
    );
    this.registry.registerMetric(this.duration as unknown as Metric);
    this.eventsRecorded = new Counter({
      name: 'atlas_webhooks_events_recorded_total',
      help: 'Events recorded by this instance and announced for immediate fan-out, by type (events emitted inside a caller transaction and test events are not counted).',
      labelNames: ['type'],
      registers,
    });

    const snapshot = () => this.snapshot();
    const fromSnapshot = (name: string, help: string, pick: (s: ScrapeSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect(this: Gauge) {
          const s = await snapshot();
          this.set(s ? pick(s) : NaN);
        },
      });
    fromSnapshot(
      'atlas_webhooks_attempts_pending',
      'Attempts waiting in the queue (status pending), due or scheduled for later; all instances.',
      (s) => s.pending,
    );
    fromSnapshot('atlas_webhooks_attempts_due', 'Pending attempts whose time has come and that no instance has claimed yet; all instances.', (s) => s.due);
    fromSnapshot(
      'atlas_webhooks_oldest_due_attempt_age_seconds',
      'How long the oldest due attempt has been waiting to be claimed (0 when none is due): the delivery lag.',
      (s) => s.oldestDueAgeSeconds,
    );
    fromSnapshot(
      'atlas_webhooks_disabled_webhooks',
      'Webhooks currently disabled (by an operator, a 410 Gone, or failing for too long).',
      (s) => s.disabledWebhooks,
    );
    new Gauge({
      name: 'atlas_webhooks_database_up',
      help: '1 when the scrape-time queue query succeeded, 0 when the database did not answer (the queue gauges are NaN then).',
      registers,
      async collect(this: Gauge) {
        this.set((await snapshot()) ? 1 : 0);
      },
    });

    new Gauge({
      name: 'atlas_webhooks_in_flight',
      help: 'Delivery requests this instance is sending right now.',
      registers,
      collect(this: Gauge) {
        this.set(dispatcher.inFlightCount);
      },
    });
    new Counter({
      name: 'atlas_webhooks_sweeper_runs_total',
      help: 'Sweeper passes (fan-out of missed events, expired leases, due retries) run by this instance.',
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(sweeper.stats.runs);
      },
    });
    new Counter({
      name: 'atlas_webhooks_sweeper_errors_total',
      help: 'Sweeper passes that failed (usually the database was unreachable) on this instance.',
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(sweeper.stats.errors);
      },
    });
    new Gauge({
      name: 'atlas_webhooks_sweeper_last_run_timestamp_seconds',
      help: 'Unix time when the last sweeper pass of this instance ended (0 before the first).',
      registers,
      collect(this: Gauge) {
        this.set(sweeper.stats.lastRunAt ? sweeper.stats.lastRunAt.getTime() / 1000 : 0);
      },
    });
  }

  onModuleInit(): void {
    this.observer.register(this);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  attemptFinished(_p: PreparedAttempt, outcome: AttemptOutcome): void {
    try {
      const { attempt, result } = outcome;
      const resultLabel = result.success ? Status.Succeeded : Status.Failed;
      const status = statusClass(result.statusCode);
      const key = `${resultLabel} ${status} ${attempt.trigger}`;
      const count = this.attemptCounts.get(key);
      if (count) count.n++;
      else this.attemptCounts.set(key, { labels: { result: resultLabel, status_class: status, trigger: attempt.trigger }, n: 1 });
      this.duration.observe(result.durationMs / 1000);
    } catch (err) {
      // metrics must never break a delivery
      this.logger.warn(`Could not count an attempt: ${(err as Error).message}`);
    }
  }

  @OnEvent(EVENT_RECORDED)
  onEventRecorded(payload: EventRecordedPayload): void {
    this.eventsRecorded.inc({ type: payload.type });
  }

  /**
   * The queue snapshot for the scrape in progress: every gauge's collect() of
   * one scrape runs before any of them resolves, so they share one query.
   * null when the database did not answer.
   */
  private snapshot(): Promise<ScrapeSnapshot | null> {
    if (!this.snapshotInFlight) {
      this.snapshotInFlight = Promise.all([this.queue.read(SNAPSHOT_TIMEOUT_MS), this.webhooks.countDisabled()])
        .then(([q, disabledWebhooks]) => {
          this.lastSnapshotError = null;
          return { ...q, disabledWebhooks };
        })
        .catch((err: Error) => {
          if (err.message !== this.lastSnapshotError) this.logger.warn(`Queue metrics unavailable: ${err.message}`);
          this.lastSnapshotError = err.message;
          return null;
        })
        .finally(() => (this.snapshotInFlight = null));
    }
    return this.snapshotInFlight;
  }
}
