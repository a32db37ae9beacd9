import { Injectable } from '@nestjs/common';
import { EventsService } from '../../events/events.service';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { AttemptStore } from './attempt-store';
import type { ClaimedAttempt, PreparedAttempt } from '../attempt.types';
import type { EventBody } from '../../events/events.types';
import { buildEventBody } from '../sending/event-body';

/** What a claim read along with its attempts (AttemptStore.claimDue), so that preparing them needs no query of its own for it. */
export interface Prefetched {
  /** The bodies of the attempts' events, by event id; an event missing here is gone (retention). */
  bodies: Map<string, EventBody>;
  /** The current version of each attempt's webhook (`webhookVersionSql`), null when it is gone. */
  webhookVersions: Map<string, string | null>;
}

export interface Prepared {
  /** Ready to send, with their webhook, event and body (one body per event, shared by its attempts). */
  ready: PreparedAttempt[];
  /** Claimed attempts whose webhook was deleted meanwhile (its queue goes with it): handed back. */
  orphans: string[];
}

/**
 * Loads what claimed attempts need to be sent (their webhooks and event
 * bodies: two queries, or none when the claim read the bodies and the
 * webhooks' versions and the webhooks are unchanged since the last claim),
 * cancels those of webhooks disabled meanwhile
 * together with the rest of those webhooks' queues, and those whose event
 * retention removed.
 */
@Injectable()
export class AttemptPreparer {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly events: EventsService,
    private readonly store: AttemptStore,
  ) {}

  async prepare(claimed: ClaimedAttempt[], prefetched?: Prefetched): Promise<Prepared> {
    const [hooks, bodies] = prefetched
      ? [await this.webhooks.findAtVersions(prefetched.webhookVersions), prefetched.bodies]
      : await Promise.all([
          this.webhooks.findByIds([...new Set(claimed.map((c) => c.webhookId))]),
          this.events.bodiesFor([...new Set(claimed.map((c) => c.eventId))]),
        ]);
    const byId = new Map(hooks.map((h) => [h.id, h]));
    const ready: PreparedAttempt[] = [];
    const orphans: string[] = [];
    const disabledHooks = new Map<string, string | null>();
    const disabledAttempts: string[] = [];
    const eventless: string[] = [];
    const built = new Map<string, string>();
    for (const attempt of claimed) {
      const webhook = byId.get(attempt.webhookId);
      const event = bodies.get(attempt.eventId);
      if (!webhook) {
        orphans.push(attempt.id);
      } else if (!event) {
        eventless.push(attempt.id);
      } else if (!webhook.enabled && attempt.trigger === 'event') {
        disabledHooks.set(webhook.id, webhook.disabledReason);
        disabledAttempts.push(attempt.id);
      } else {
        let body = built.get(attempt.eventId);
        if (body === undefined) built.set(attempt.eventId, (body = buildEventBody(attempt.eventId, event.type, event.createdAt, event.payloadText)));
        ready.push({ attempt, webhook, event, body });
      }
    }
    if (disabledAttempts.length) {
      // back to pending, then cancelled with the rest of that webhook's queue
      await this.store.release(disabledAttempts);
      for (const [id, reason] of disabledHooks) await this.store.cancelPending(id, reason);
    }
    await this.store.cancelClaimed(eventless, 'cancelled: its event no longer exists (retention)');
    return { ready, orphans };
  }
}
