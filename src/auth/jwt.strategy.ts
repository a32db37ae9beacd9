import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthUser } from '../common/current-user.decorator';
import { JWT_SECRET } from './auth.constants';
import { Inject } from '@nestjs/common';
import { UsersService } from './users.service';

interface TokenPayload {
  sub: string;
  username: string;
  role: string;
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    @Inject(JWT_SECRET) secret: string,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** The user must still exist; its current role counts, not the one in the token. */
  async validate(payload: TokenPayload): Promise<AuthUser | false> {
    if (typeof payload?.sub !== 'string') return false;
    const user = await this.users.findById(payload.sub).catch(() => null);
    if (!user) return false;
    return { id: user.id, username: user.username, role: user.role };
  }
}
