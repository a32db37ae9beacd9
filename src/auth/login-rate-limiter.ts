import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';

const WINDOW_MS = 60_000;
const MAX_KEYS = 100_000;

/**
 * Sliding one-minute window of login attempts per client address and username,
 * in memory (per instance). Past `LOGIN_RATE_LIMIT` → 429 with Retry-After.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(private readonly config: AppConfig) {}

  hit(clientIp: string, username: string, now = Date.now()): void {
    const key = `${clientIp}\u0000${username.toLowerCase()}`;
    const recent = (this.attempts.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    if (recent.length >= this.config.get('LOGIN_RATE_LIMIT')) {
      const retryAfter = Math.max(1, Math.ceil((recent[0] + WINDOW_MS - now) / 1000));
      this.attempts.set(key, recent);
      throw new AppError('TOO_MANY_REQUESTS', `Too many login attempts for this user from this address; try again in ${retryAfter} s`, undefined, {
        'Retry-After': String(retryAfter),
      });
    }
    recent.push(now);
    this.attempts.set(key, recent);
    if (this.attempts.size > MAX_KEYS) this.prune(now);
  }

  private prune(now: number): void {
    for (const [key, times] of this.attempts) {
      if (times.every((t) => now - t >= WINDOW_MS)) this.attempts.delete(key);
    }
  }
}
