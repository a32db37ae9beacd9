import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../common/app-error';
import { IS_PUBLIC_KEY } from '../common/public.decorator';

/** Global guard: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    return super.canActivate(context);
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
