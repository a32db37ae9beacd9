import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { arrayLiteral } from '../database/array-literal';
import { AppError } from '../common/app-error';
import { isUuid } from '../common/uuid';
import { returnedRows } from '../database/query-result';
import { AppConfig } from '../config/app-config';
import { isOperationalType } from '../events/event-catalogue';
import { EventsService } from '../events/events.service';
import { generateSecret } from './secret';
import { isPaced } from './pacing';
import type { WebhookResultSummary } from './delivery-summary';
import { matchesSubscription, normalizeSubscriptions, SUBSCRIBABLE_TYPES, subscriptionKeys, validateSubscriptions } from './subscription';
import {
  WEBHOOK_CHANGED,
  WEBHOOK_DELETED,
  WEBHOOK_DISABLED,
  WEBHOOK_PACING_CHANGED,
  WebhookDeletedPayload,
  WebhookDisabledPayload,
  WebhookPacingChangedPayload,
} from './webhook-bus';
import { CreateWebhookDto, DEFAULT_TIMEOUT_MS, UpdateWebhookDto } from './webhook.dto';
import { Webhook } from './webhook.entity';
import { WebhookSnapshots } from './webhook-snapshots';
import { compileFilter, FilterPredicate, isEmptyFilter, PayloadFilter } from './payload-filter';

/** How long the previous secret stays valid after a rotation. */
export const PREVIOUS_SECRET_GRACE_HOURS = 24;
export const OPERATOR_DISABLED_REASON = 'disabled by an operator';
/** Compiled filters kept at most (the cache starts over beyond). */
const MAX_CACHED_FILTERS = 100_000;

/** The webhook an operational event is about (its data's webhook_id). */
function aboutWebhook(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>).webhook_id : undefined;
}

function storedFilter(filter: PayloadFilter | null | undefined): PayloadFilter | null {
  return isEmptyFilter(filter) ? null : filter!;
}

export interface WebhookListFilter {
  enabled?: boolean;
  /** Only webhooks that receive this event type (wildcards included). */
  event?: string;
  limit: number;
  offset: number;
}

export interface WebhookSecrets {
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
}

function unknownEventFilter(event: string): AppError {
  return new AppError('UNKNOWN_EVENT_TYPE', `event must be an event type; unknown "${event.slice(0, 100)}"; valid types: ${SUBSCRIBABLE_TYPES.join(', ')}`);
}

// SQL fragments of applyDeliverySummaries. In an UPDATE's SET list `w.*` are the old values.
const RESET = `(v.reset AND v.success_at >= COALESCE(w.last_failure_at, '-infinity'::timestamptz))`;
const NEW_FAILING_SINCE = `(CASE WHEN ${RESET} THEN v.fail_start ELSE COALESCE(w.failing_since, v.fail_start) END)`;
const NEW_SUCCESS = `GREATEST(w.last_success_at, v.success_at)`;
const EXPIRED = `(w.enabled AND ${NEW_FAILING_SINCE} IS NOT NULL
  AND ${NEW_FAILING_SINCE} < now() - make_interval(hours => $9::int)
  AND (${NEW_SUCCESS} IS NULL OR ${NEW_SUCCESS} < ${NEW_FAILING_SINCE}))`;
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

// The rows are locked FOR NO KEY UPDATE (what the UPDATE takes anyway), not FOR UPDATE: that would
// conflict with the key-share locks of attempt inserts (their foreign key check on webhooks) and
// deadlocked with the fan-out, which inserts attempts for several webhooks in another order.
const RECORD_RESULTS_SQL = `
WITH v AS (
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::boolean[], $7::int[], $8::timestamptz[], $11::int[])
    AS t(id, triggered_at, success_at, failure_at, error, reset, fails, fail_start, status_code)
), locked AS (
  SELECT w.id, w.enabled AS was_enabled, w.consecutive_failures AS old_failures, w.last_failure_at AS old_last_failure_at
  FROM webhooks w JOIN v ON v.id = w.id ORDER BY w.id FOR NO KEY UPDATE OF w
)
UPDATE webhooks w SET
  last_triggered_at = GREATEST(w.last_triggered_at, v.triggered_at),
  last_success_at = ${NEW_SUCCESS},
  last_failure_at = GREATEST(w.last_failure_at, v.failure_at),
  last_error = CASE WHEN v.failure_at IS NOT NULL AND v.failure_at >= COALESCE(w.last_failure_at, '-infinity'::timestamptz) THEN v.error ELSE w.last_error END,
  consecutive_failures = CASE WHEN ${RESET} THEN v.fails ELSE w.consecutive_failures + v.fails END,
  failing_since = ${NEW_FAILING_SINCE},
  enabled = CASE WHEN ${EXPIRED} THEN false ELSE w.enabled END,
  disabled_reason = CASE WHEN ${EXPIRED} THEN 'failing since ' || to_char(${NEW_FAILING_SINCE} AT TIME ZONE 'UTC', ${ISO_UTC}) || $10::text ELSE w.disabled_reason END,
  updated_at = CASE WHEN ${EXPIRED} THEN now() ELSE w.updated_at END
FROM v JOIN locked l ON l.id = v.id
WHERE w.id = v.id
RETURNING w.id, (l.was_enabled AND NOT w.enabled) AS disabled_now, w.disabled_reason, w.name, w.last_error, w.consecutive_failures, w.failing_since,
  l.old_failures, v.status_code, (v.reset AND v.success_at >= COALESCE(l.old_last_failure_at, '-infinity'::timestamptz)) AS reset_now`;

/** What RECORD_RESULTS_SQL returns per webhook: the new state, and from the same locked row the old streak. */
interface RecordedState {
  id: string;
  disabled_now: boolean;
  disabled_reason: string | null;
  name: string;
  last_error: string | null;
  consecutive_failures: number;
  failing_since: Date | null;
  old_failures: number;
  /** The HTTP status of the batch's latest failure at this webhook. */
  status_code: number | null;
  reset_now: boolean;
}

/** An attempt whose event will not be tried again at that webhook (its retries are used up). */
export interface ExhaustedAttempt {
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  error: string | null;
  statusCode: number | null;
}

/**
 * The endpoint registry: CRUD, toggling, secrets, subscription matching and
 * the per-webhook delivery bookkeeping. Knows nothing about delivery itself;
 * it announces disabled webhooks on the bus.
 */
/** A webhook on the overview's "needs attention" list. */
export interface WebhookAttention {
  id: string;
  name: string;
  url: string;
  enabled: boolean;
  disabled_reason: string | null;
  last_error: string | null;
  consecutive_failures: number;
  failing_since: Date | null;
  last_failure_at: Date | null;
}

/** Work that goes with deleting a webhook, in the deletion's transaction (`WebhooksService.onRemove`). */
export type RemovalStep = (manager: EntityManager, webhookId: string) => Promise<void>;

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  /** Compiled payload filters by webhook id, with the webhook version (updated_at) they were compiled from. */
  private readonly filters = new Map<string, { version: number; match: FilterPredicate }>();

  private readonly removalSteps: RemovalStep[] = [];
  /** Webhooks as claims last needed them, by version (`findAtVersions`). */
  private readonly snapshots = new WebhookSnapshots((ids) => this.findByIds(ids));

  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly bus: EventEmitter2,
    private readonly config: AppConfig,
    private readonly events: EventsService,
  ) {}

  /** Subscriptions are checked against the live catalogue (admins may add types); the built-in ones need no look-up. */
  private async checkSubscriptions(list: string[] | undefined): Promise<void> {
    if (list === undefined || validateSubscriptions(list).length === 0) return;
    const problems = validateSubscriptions(list, await this.events.subscribable());
    if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '), problems);
  }

  // ---- used by the delivery module ----------------------------------------

  /**
   * The enabled webhooks subscribed to each of several types (by name,
   * category wildcard or `*`), in one GIN-indexed query: the fan-out of a
   * batch of events. The query reads only ids and versions; the webhooks
   * come from the snapshots (`findAtVersions`), loaded only when one changed.
   */
  async findSubscribersOfTypes(types: string[]): Promise<Map<string, Webhook[]>> {
    const out = new Map<string, Webhook[]>();
    if (types.length === 0) return out;
    const rows = await this.db.query<Array<{ id: string; version: string }>>(
      `SELECT id, updated_at::text AS version FROM webhooks WHERE enabled AND events && $1::text[] ORDER BY created_at, id`,
      [arrayLiteral([...new Set(types.flatMap(subscriptionKeys))])],
    );
    const byId = new Map((await this.snapshots.at(new Map(rows.map((r) => [r.id, r.version])))).map((w) => [w.id, w]));
    // in the query's order (oldest first); a copy newer than the query that is disabled by now is left out
    const hooks = rows.map((r) => byId.get(r.id)).filter((w): w is Webhook => w !== undefined && w.enabled);
    for (const type of types)
      out.set(
        type,
        hooks.filter((w) => matchesSubscription(w.events, type)),
      );
    return out;
  }

  /** The enabled webhooks with a rate limit or FIFO ordering (a partial index holds just them). */
  async findPaced(): Promise<Webhook[]> {
    return this.webhooks.createQueryBuilder('w').where(`w.enabled AND (w.rate_limit IS NOT NULL OR w.ordering <> 'none')`).getMany();
  }

  /**
   * Does this webhook take an event of `type` with this data, beyond its
   * subscriptions (the caller has matched those)? Its payload filter, compiled
   * once per version of the webhook (`updated_at`) and cached. `data` is asked
   * for only when the webhook has a filter (the caller parses the payload
   * once per event, lazily).
   */
  accepts(webhook: Webhook, type: string, data: () => unknown): boolean {
    // an operational event is never sent to the webhook it is about
    if (isOperationalType(type) && aboutWebhook(data()) === webhook.id) return false;
    if (webhook.filter === null || webhook.filter === undefined) return true;
    return this.filterOf(webhook)({ type, data: data() });
  }

  private filterOf(webhook: Webhook): FilterPredicate {
    const version = webhook.updatedAt?.getTime() ?? 0;
    const cached = this.filters.get(webhook.id);
    if (cached && cached.version === version) return cached.match;
    let match: FilterPredicate;
    try {
      match = compileFilter(webhook.filter);
    } catch (err) {
      // only valid filters are stored; one changed by hand in the database matches nothing rather than everything
      this.logger.warn(`The filter of webhook ${webhook.id} is invalid, so it matches no event: ${(err as Error).message}`);
      match = () => false;
    }
    if (this.filters.size >= MAX_CACHED_FILTERS) this.filters.clear();
    this.filters.set(webhook.id, { version, match });
    return match;
  }

  /**
   * The webhooks at the versions a claim read (`webhookVersionSql`): from
   * memory when unchanged, loaded otherwise. Null versions (webhooks deleted)
   * are left out.
   */
  findAtVersions(versions: ReadonlyMap<string, string | null>): Promise<Webhook[]> {
    return this.snapshots.at(versions);
  }

  async findByIds(ids: string[]): Promise<Webhook[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (valid.length === 0) return [];
    return this.webhooks.findBy({ id: In(valid) });
  }

  async findById(id: string): Promise<Webhook | null> {
    if (!isUuid(id)) return null;
    return this.webhooks.findOneBy({ id });
  }

  async getOrFail(id: string): Promise<Webhook> {
    const webhook = await this.findById(id);
    if (!webhook) throw new AppError('WEBHOOK_NOT_FOUND', `No webhook with id ${String(id).slice(0, 64)}`);
    return webhook;
  }

  /** Every webhook's id (the console's aggregates read one index range per webhook). */
  async allIds(): Promise<string[]> {
    return (await this.webhooks.find({ select: { id: true } })).map((w) => w.id);
  }

  /** The enabled webhooks' ids (the bulk retry queues attempts for those only). */
  async enabledIds(): Promise<string[]> {
    return (await this.webhooks.find({ select: { id: true }, where: { enabled: true } })).map((w) => w.id);
  }

  /** Webhooks by state, for the overview. */
  async countByState(): Promise<{ total: number; enabled: number; disabled: number; failing: number }> {
    const [row] = await this.db.query<Array<Record<string, string>>>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE enabled) AS enabled, count(*) FILTER (WHERE NOT enabled) AS disabled,
              count(*) FILTER (WHERE enabled AND consecutive_failures > 0) AS failing
       FROM webhooks`,
    );
    return { total: Number(row.total), enabled: Number(row.enabled), disabled: Number(row.disabled), failing: Number(row.failing) };
  }

  /** The webhooks that need an operator's eye: disabled, or failing (most failures first). */
  needingAttention(limit: number): Promise<WebhookAttention[]> {
    return this.db.query<WebhookAttention[]>(
      `SELECT id, name, url, enabled, disabled_reason, last_error, consecutive_failures, failing_since, last_failure_at
       FROM webhooks WHERE NOT enabled OR consecutive_failures > 0
       ORDER BY enabled, consecutive_failures DESC, last_failure_at DESC NULLS LAST LIMIT $1`,
      [limit],
    );
  }

  /** How many webhooks are disabled (for the metrics). */
  async countDisabled(): Promise<number> {
    return this.webhooks.count({ where: { enabled: false } });
  }

  /**
   * Stores what a batch of finished attempts did to each webhook (summaries
   * the delivery module computes), in one statement: last_* timestamps, the
   * failure streak, and the automatic disabling of webhooks that have failed
   * for longer than WEBHOOK_DISABLE_AFTER_HOURS without a success. Returns the
   * ids disabled now (each also announced as `webhook.disabled`).
   */
  async applyDeliverySummaries(summaries: WebhookResultSummary[]): Promise<string[]> {
    if (summaries.length === 0) return [];
    const hours = this.config.get('WEBHOOK_DISABLE_AFTER_HOURS');
    const rows = returnedRows<RecordedState>(
      await this.db.query(RECORD_RESULTS_SQL, [
        summaries.map((s) => s.webhookId),
        summaries.map((s) => s.triggeredAt),
        summaries.map((s) => s.successAt),
        summaries.map((s) => s.failureAt),
        summaries.map((s) => s.error),
        summaries.map((s) => s.reset),
        summaries.map((s) => s.failures),
        summaries.map((s) => s.failingSince),
        hours,
        ` (more than ${hours} hours without a successful delivery)`,
        summaries.map((s) => s.statusCode ?? null),
      ]),
    );
    const disabled = rows.filter((r) => r.disabled_now);
    for (const row of disabled) this.publishDisabled({ id: row.id, reason: row.disabled_reason ?? 'failing for too long' });
    this.raiseStateChanges(rows);
    return disabled.map((r) => r.id);
  }

  /**
   * The operational events of the state changes one bookkeeping statement
   * made: each is seen by exactly one statement (the row was locked while its
   * old and new streak were read), so each is raised once, whichever instance
   * wrote it. Nothing is raised in the common case, and no query is made.
   */
  private raiseStateChanges(rows: RecordedState[]): void {
    const n = this.config.get('WEBHOOK_FAILING_AFTER_FAILURES');
    for (const r of rows) {
      const about = { webhook_id: r.id, webhook_name: r.name };
      const oldFailures = Number(r.old_failures);
      const failures = Number(r.consecutive_failures);
      if (r.reset_now && oldFailures >= n) {
        this.raise('webhook.endpoint_recovered', {
          ...about,
          reason: `delivered successfully after ${oldFailures} failed attempts in a row`,
          failed_attempts: oldFailures,
          last_error: r.last_error,
        });
      }
      if ((r.reset_now ? 0 : oldFailures) < n && failures >= n) {
        this.raise('webhook.endpoint_failing', {
          ...about,
          reason: `${failures} failed attempts in a row (WEBHOOK_FAILING_AFTER_FAILURES=${n})`,
          consecutive_failures: failures,
          failing_since: r.failing_since ? new Date(r.failing_since).toISOString() : null,
          last_error: r.last_error,
          status_code: r.status_code,
        });
      }
      if (r.disabled_now) {
        this.raise('webhook.endpoint_disabled', {
          ...about,
          reason: r.disabled_reason,
          consecutive_failures: failures,
          failing_since: r.failing_since ? new Date(r.failing_since).toISOString() : null,
          last_error: r.last_error,
          status_code: r.status_code,
        });
      }
    }
  }

  /**
   * `webhook.attempts_exhausted` for events whose last attempt failed with no
   * retry left (the caller passes each once: the attempt's queue row was
   * moved to the log by this call). One query for the webhooks' names.
   */
  async raiseAttemptsExhausted(attempts: ExhaustedAttempt[]): Promise<void> {
    const reported = attempts.filter((a) => !isOperationalType(a.eventType)); // never news about delivering news
    if (reported.length === 0) return;
    const names = new Map((await this.findByIds(reported.map((a) => a.webhookId))).map((w) => [w.id, w.name]));
    for (const a of reported) {
      this.raise('webhook.attempts_exhausted', {
        webhook_id: a.webhookId,
        webhook_name: names.get(a.webhookId) ?? null,
        event_id: a.eventId,
        event_type: a.eventType,
        attempts: a.attempt,
        reason: `the event was not delivered after ${a.attempt} attempt${a.attempt === 1 ? '' : 's'}; no retry is left`,
        status_code: a.statusCode,
        last_error: a.error,
      });
    }
  }

  /** Emits an operational event (after the change it reports is committed); a failure is logged, never thrown into delivery. */
  private raise(type: string, data: Record<string, unknown>): void {
    this.events.emit(type, data).catch((err: Error) => this.logger.warn(`Could not record ${type} for webhook ${String(data.webhook_id)}: ${err.message}`));
  }

  /** Disables an enabled webhook (e.g. its endpoint answered 410 Gone) and announces it. No-op when already disabled or gone. */
  async disable(id: string, reason: string): Promise<void> {
    if (!isUuid(id)) return;
    const rows = returnedRows<{ id: string; name: string; last_error: string | null; consecutive_failures: number; failing_since: Date | null }>(
      await this.db.query(
        `UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled
         RETURNING id, name, last_error, consecutive_failures, failing_since`,
        [id, reason],
      ),
    );
    if (rows.length) {
      this.publishDisabled({ id, reason });
      const r = rows[0];
      this.raise('webhook.endpoint_disabled', {
        webhook_id: id,
        webhook_name: r.name,
        reason,
        consecutive_failures: Number(r.consecutive_failures),
        failing_since: r.failing_since ? new Date(r.failing_since).toISOString() : null,
        last_error: r.last_error,
        status_code: null,
      });
    }
  }

  /** The current secret plus the previous one while its grace period lasts. */
  signingSecrets(webhook: Webhook, now: Date): { secret: string; previousSecret: string | null } {
    const previousValid =
      webhook.previousSecret !== null && webhook.previousSecretExpiresAt !== null && webhook.previousSecretExpiresAt.getTime() > now.getTime();
    return { secret: webhook.secret, previousSecret: previousValid ? webhook.previousSecret : null };
  }

  /** A new generated secret; the old one keeps signing (alongside) for 24 hours. */
  async rotateSecret(id: string): Promise<{ secret: string; previous_secret_expires_at: string }> {
    await this.getOrFail(id);
    const secret = generateSecret();
    const rows = returnedRows<{ previous_secret_expires_at: Date }>(
      await this.db.query(
        `UPDATE webhooks
         SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(hours => $3::int), secret = $2, updated_at = now()
         WHERE id = $1
         RETURNING previous_secret_expires_at`,
        [id, secret, PREVIOUS_SECRET_GRACE_HOURS],
      ),
    );
    if (!rows.length) throw new AppError('WEBHOOK_NOT_FOUND', `No webhook with id ${id}`);
    return { secret, previous_secret_expires_at: rows[0].previous_secret_expires_at.toISOString() };
  }

  // ---- CRUD -----------------------------------------------------------------

  async list(filter: WebhookListFilter): Promise<{ items: Webhook[]; total: number }> {
    const qb = this.webhooks.createQueryBuilder('w');
    if (filter.enabled !== undefined) qb.andWhere('w.enabled = :enabled', { enabled: filter.enabled });
    if (filter.event !== undefined) {
      if (!SUBSCRIBABLE_TYPES.includes(filter.event) && !(await this.events.subscribable()).types.includes(filter.event)) {
        throw unknownEventFilter(filter.event);
      }
      qb.andWhere('w.events && CAST(:keys AS text[])', { keys: subscriptionKeys(filter.event) });
    }
    const [items, total] = await qb.orderBy('w.createdAt', 'DESC').addOrderBy('w.id', 'DESC').take(filter.limit).skip(filter.offset).getManyAndCount();
    return { items, total };
  }

  async create(input: CreateWebhookDto): Promise<Webhook> {
    await this.checkSubscriptions(input.events);
    const webhook = this.webhooks.create({
      name: input.name,
      description: input.description ?? '',
      url: input.url,
      events: normalizeSubscriptions(input.events),
      enabled: input.enabled ?? true,
      retryEnabled: input.retry_enabled ?? true,
      timeoutMs: input.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      headers: input.headers ?? {},
      rateLimit: input.rate_limit ?? null,
      ordering: input.ordering ?? 'none',
      filter: storedFilter(input.filter),
      secret: input.secret ?? generateSecret(),
    });
    const saved = await this.webhooks.save(webhook);
    this.publish(WEBHOOK_CHANGED, { id: saved.id });
    return this.getOrFail(saved.id);
  }

  /**
   * Applies the given fields. Enabling clears the failure state; disabling is
   * announced like a toggle. A new `secret` replaces the old one at once (use
   * rotate-secret for a grace period).
   */
  async update(id: string, input: UpdateWebhookDto): Promise<Webhook> {
    const current = await this.getOrFail(id);
    await this.checkSubscriptions(input.events);
    const patch: Partial<Webhook> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description ?? '';
    if (input.url !== undefined) patch.url = input.url;
    if (input.events !== undefined) patch.events = normalizeSubscriptions(input.events);
    if (input.retry_enabled !== undefined) patch.retryEnabled = input.retry_enabled;
    if (input.timeout_ms !== undefined) patch.timeoutMs = input.timeout_ms;
    if (input.headers !== undefined) patch.headers = input.headers ?? {};
    if (input.rate_limit !== undefined) patch.rateLimit = input.rate_limit;
    if (input.ordering !== undefined) patch.ordering = input.ordering;
    if (input.filter !== undefined) patch.filter = storedFilter(input.filter);
    if (input.secret !== undefined && input.secret !== current.secret) {
      patch.secret = input.secret;
      patch.previousSecret = null;
      patch.previousSecretExpiresAt = null;
    }
    const turningOn = input.enabled === true && !current.enabled;
    const turningOff = input.enabled === false && current.enabled;
    if (turningOn) Object.assign(patch, { enabled: true, consecutiveFailures: 0, failingSince: null, disabledReason: null });
    if (turningOff) Object.assign(patch, { enabled: false, disabledReason: OPERATOR_DISABLED_REASON });
    if (Object.keys(patch).length === 0) return current;
    await this.webhooks.update({ id }, patch as QueryDeepPartialEntity<Webhook>);
    this.publish(WEBHOOK_CHANGED, { id });
    const after = { rateLimit: patch.rateLimit !== undefined ? patch.rateLimit : current.rateLimit, ordering: patch.ordering ?? current.ordering };
    if (isPaced(after) !== isPaced(current)) {
      const pacing: WebhookPacingChangedPayload = { id, paced: isPaced(after) };
      this.publish(WEBHOOK_PACING_CHANGED, pacing);
    }
    if (turningOff) this.publishDisabled({ id, reason: OPERATOR_DISABLED_REASON });
    return this.getOrFail(id);
  }

  /**
   * Registers a step that runs inside every webhook deletion's transaction,
   * after the webhook's row is gone (the delivery module removes the
   * webhook's attempt log: the queue's foreign key cascade has removed the
   * queued attempts by then).
   */
  onRemove(step: RemovalStep): void {
    this.removalSteps.push(step);
  }

  /**
   * Deletes the webhook and, in the same transaction, everything that hangs
   * on it: the queued attempts (foreign key cascade, waiting for any result
   * write that holds one of them) and then the registered steps (its log).
   */
  async remove(id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const result = await m.delete(Webhook, { id });
      if (!result.affected) throw new AppError('WEBHOOK_NOT_FOUND', `No webhook with id ${id}`);
      for (const step of this.removalSteps) await step(m, id);
    });
    this.publish(WEBHOOK_DELETED, { id } satisfies WebhookDeletedPayload);
  }

  /** Flips `enabled` atomically. On: clears the failure state. Off: announced as disabled by an operator. */
  async toggle(id: string): Promise<Webhook> {
    const rows = returnedRows<{ enabled: boolean }>(
      await this.db.query(
        `UPDATE webhooks SET
           enabled = NOT enabled,
           consecutive_failures = CASE WHEN enabled THEN consecutive_failures ELSE 0 END,
           failing_since = CASE WHEN enabled THEN failing_since ELSE NULL END,
           disabled_reason = CASE WHEN enabled THEN $2 ELSE NULL END,
           updated_at = now()
         WHERE id = $1
         RETURNING enabled`,
        [id, OPERATOR_DISABLED_REASON],
      ),
    );
    if (!rows.length) throw new AppError('WEBHOOK_NOT_FOUND', `No webhook with id ${id}`);
    this.publish(WEBHOOK_CHANGED, { id });
    if (!rows[0].enabled) this.publishDisabled({ id, reason: OPERATOR_DISABLED_REASON });
    return this.getOrFail(id);
  }

  async secrets(id: string): Promise<WebhookSecrets> {
    const webhook = await this.getOrFail(id);
    const { secret, previousSecret } = this.signingSecrets(webhook, new Date());
    return {
      secret,
      previous_secret: previousSecret,
      previous_secret_expires_at: previousSecret && webhook.previousSecretExpiresAt ? webhook.previousSecretExpiresAt.toISOString() : null,
    };
  }

  private publishDisabled(payload: WebhookDisabledPayload): void {
    this.publish(WEBHOOK_DISABLED, payload);
  }

  private publish(event: string, payload: { id: string }): void {
    try {
      this.bus.emit(event, payload);
    } catch (err) {
      // The change is committed; a failing listener must not turn it into an error.
      this.logger.warn(`A listener of ${event} failed for webhook ${payload.id}: ${(err as Error).message}`);
    }
  }
}
