/**
 * Bearer tokens whose signature has already been verified, with their payload,
 * so that a client sending the same token again costs no HMAC and no passport
 * round. Only the signature check is skipped: the caller still validates the
 * user behind the payload on every request. An entry is used only while the
 * token has not expired (the rule of jsonwebtoken: expired once the current
 * second reaches `exp`); tokens without a numeric `exp`, or with `nbf`, are
 * never cached. Bounded: when full, the whole map is dropped.
 */
export class VerifiedTokenCache<P extends { exp?: unknown; nbf?: unknown }> {
  private readonly entries = new Map<string, { payload: P; expSeconds: number }>();

  constructor(private readonly max = 10_000) {}

  get(token: string, nowMs = Date.now()): P | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (Math.floor(nowMs / 1000) >= hit.expSeconds) {
      this.entries.delete(token);
      return undefined;
    }
    return hit.payload;
  }

  set(token: string, payload: P, nowMs = Date.now()): void {
    const exp = payload.exp;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || payload.nbf !== undefined) return;
    if (Math.floor(nowMs / 1000) >= exp) return;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(token, { payload, expSeconds: exp });
  }

  get size(): number {
    return this.entries.size;
  }
}
