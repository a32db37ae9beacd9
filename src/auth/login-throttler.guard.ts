import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyRequest as Request } from 'fastify';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';

const WINDOW_MS = 60_000;

/**
 * The login rate limit (@nestjs/throttler, in memory, per instance): `LOGIN_RATE_LIMIT` attempts per
 * client address and username in any sliding minute. `blockDuration: 0` makes the throttler count each
 * attempt for one minute from when it was made, and not count refused attempts, so a client that
 * waits for `Retry-After` gets exactly one more try as its oldest attempt ages out.
 */
export function loginThrottlerOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    throttlers: [{ name: 'default', ttl: WINDOW_MS, limit: config.get('LOGIN_RATE_LIMIT'), blockDuration: 0 }],
    // Retry-After comes with our error (below); the X-RateLimit-* headers would only advertise the limit
    setHeaders: false,
  };
}

/** Guards `POST /api/auth/login`: keyed by client address AND username, so one attacker cannot lock a user out everywhere. */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  // runs before the ValidationPipe, so the body may be anything: a missing username counts as ''
  protected override getTracker(req: Request): Promise<string> {
    const body = req.body as { username?: unknown } | undefined;
    const username = typeof body?.username === 'string' ? body.username.toLowerCase() : '';
    return Promise.resolve(`${req.ip ?? 'unknown'}\u0000${username}`);
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    throw new AppError('TOO_MANY_REQUESTS', `Too many login attempts for this user from this address; try again in ${retryAfter} s`, undefined, {
      'Retry-After': String(retryAfter),
    });
  }
}
