import { Module } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { JWT_SECRET } from './auth.constants';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './jwt-auth.guard';
import { resolveJwtSecret } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';
import { LoginThrottlerGuard, loginThrottlerOptions } from './login-throttler.guard';
import { RolesGuard } from './roles.guard';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/**
 * The HS256 key as a KeyObject: jsonwebtoken converts a string key on every
 * sign and verify (first trying it as a public key, which throws), which cost
 * more CPU than anything else on an authenticated request.
 */
const jwtSecretProvider = {
  provide: JWT_SECRET,
  inject: [AppConfig],
  useFactory: (config: AppConfig): KeyObject => createSecretKey(Buffer.from(resolveJwtSecret(config.env), 'utf8')),
};

@Module({
  imports: [
    TypeOrmModule.forFeature([User]),
    PassportModule,
    ThrottlerModule.forRootAsync({ inject: [AppConfig], useFactory: loginThrottlerOptions }),
    JwtModule.registerAsync({
      extraProviders: [jwtSecretProvider],
      inject: [JWT_SECRET],
      useFactory: (secret: KeyObject) => ({
        secret: secret as unknown as string,
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController, UsersController],
  providers: [
    jwtSecretProvider,
    UsersService,
    JwtStrategy,
    LoginThrottlerGuard,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [UsersService],
})
export class AuthModule {}
