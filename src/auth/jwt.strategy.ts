import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest as Request } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppError } from '../common/app-error';
import { AuthUser } from '../common/current-user.decorator';
import { isUuid } from '../common/uuid';
import { JWT_SECRET } from './auth.constants';
import { UsersService } from './users.service';
import { VerifiedTokenCache } from './verified-token-cache';

interface TokenPayload {
  sub: string;
  username: string;
  role: string;
  exp?: number;
  nbf?: number;
}

/** The bearer token of a request, extracted exactly as passport-jwt does. */
export const extractBearerToken: (req: Request) => string | null = ExtractJwt.fromAuthHeaderAsBearerToken();

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  /** Tokens passport-jwt has verified (signature, algorithm, expiry): see JwtAuthGuard. */
  readonly verified = new VerifiedTokenCache<TokenPayload>();

  constructor(
    @Inject(JWT_SECRET) secret: KeyObject,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: extractBearerToken,
      secretOrKey: secret as unknown as string, // a KeyObject: passed through to jsonwebtoken
      algorithms: ['HS256'],
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** Called by passport-jwt once the token is verified: remembers it, then checks the user. */
  async validate(req: Request, payload: TokenPayload): Promise<AuthUser | false> {
    const token = extractBearerToken(req);
    if (token) this.verified.set(token, payload);
    return this.validatePayload(payload);
  }

  /** The user must still exist; its current role counts, not the one in the token. */
  async validatePayload(payload: TokenPayload): Promise<AuthUser | false> {
    if (typeof payload?.sub !== 'string' || !isUuid(payload.sub)) return false;
    let user: Awaited<ReturnType<UsersService['findById']>>;
    try {
      user = await this.users.findForAuth(payload.sub);
    } catch {
      // The database could not answer, so the token is neither valid nor invalid:
      // a 503 tells the client to retry; a 401 would send it to log in again for nothing.
      throw new AppError('DATABASE_UNAVAILABLE', 'The database is unavailable; try again shortly');
    }
    if (!user) return false;
    return { id: user.id, username: user.username, role: user.role };
  }
}
