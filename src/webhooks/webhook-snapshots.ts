import type { Webhook } from './webhook.entity';

/**
 * A webhook's version as SQL, for a query that reads another table's rows
 * by webhook id (the delivery queue's claim): its `updated_at` as exact text
 * (microseconds, which a JS Date would round away), NULL once the webhook is
 * gone. Every change of a webhook's configuration moves `updated_at`; the
 * delivery bookkeeping (last_* times, the failure streak) does not.
 */
export const webhookVersionSql = (webhookIdExpr: string): string => `(SELECT w.updated_at::text FROM webhooks w WHERE w.id = ${webhookIdExpr})`;

/** Webhooks kept in memory at most (beyond it the cache starts afresh). */
const MAX_SNAPSHOTS = 10_000;

/**
 * The last loaded copy of each webhook, by the version (`webhookVersionSql`)
 * it was loaded for. A claim that read a webhook's current version gets the
 * copy from here when it is that version, and loads only the webhooks that
 * changed (or are new here): a claim of hundreds of attempts for a few
 * unchanged webhooks needs no query for them.
 *
 * A copy loaded for version V may be newer than V (changed between the claim
 * and the load); the next claim then sees another version and loads it
 * again. It is never older than what the claim saw.
 */
export class WebhookSnapshots {
  private readonly byId = new Map<string, { version: string; webhook: Webhook }>();

  constructor(private readonly load: (ids: string[]) => Promise<Webhook[]>) {}

  /** The webhooks at (or after) the given versions; those with a null version (deleted) are left out and forgotten. */
  async at(versions: ReadonlyMap<string, string | null>): Promise<Webhook[]> {
    const out: Webhook[] = [];
    const missing: string[] = [];
    for (const [id, version] of versions) {
      if (version === null) {
        this.byId.delete(id);
        continue;
      }
      const cached = this.byId.get(id);
      if (cached && cached.version === version) out.push(cached.webhook);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const loaded = await this.load(missing);
    if (this.byId.size + loaded.length > MAX_SNAPSHOTS) this.byId.clear();
    for (const webhook of loaded) {
      this.byId.set(webhook.id, { version: versions.get(webhook.id)!, webhook });
      out.push(webhook);
    }
    return out;
  }
}
