import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest as Request } from 'fastify';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../common/app-error';
import { IS_PUBLIC_KEY } from '../common/public.decorator';
import { extractBearerToken, JwtStrategy } from './jwt.strategy';

/** Global guard: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    // A token verified before (and not yet expired) skips passport and the HMAC; the user is checked as always.
    const req = context.switchToHttp().getRequest<Request & { user?: unknown }>();
    const token = extractBearerToken(req);
    const payload = token ? this.strategy.verified.get(token) : undefined;
    if (!payload) return super.canActivate(context);
    return this.strategy.validatePayload(payload).then(
      (user) => {
        req.user = this.handleRequest(null, user, undefined);
        return true;
      },
      (err: unknown) => this.handleRequest(err, false, undefined),
    );
  }

  override handleRequest<T>(err: unknown, user: T, info: unknown): T {
    if (err instanceof AppError) throw err; // e.g. DATABASE_UNAVAILABLE from the strategy: not the token's fault
    if (err || !user) {
      const reason = info instanceof Error ? info.message : undefined;
      const message =
        reason === 'jwt expired'
          ? 'The access token has expired; log in again'
          : reason === 'No auth token'
            ? 'Missing bearer token (Authorization: Bearer <access_token>)'
            : 'Invalid access token';
      throw new AppError('UNAUTHENTICATED', message, undefined, { 'WWW-Authenticate': 'Bearer' });
    }
    return user;
  }
}
