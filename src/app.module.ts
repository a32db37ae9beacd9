import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/http-exception.filter';
import { ConfigModule } from './config/config.module';
import { Env } from './config/env.schema';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database/data-source-options';
import { initializeMigrated } from './database/locked-migrations';
import { DeliveryModule } from './delivery/delivery.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { WebhooksModule } from './webhooks/webhooks.module';

export interface AppModuleOptions {
  env: Env;
  /** The resolved database: `DATABASE_URL` or the embedded server's URL. */
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRoot({ env, databaseUrl }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(databaseUrl, env.DB_POOL_SIZE, env.DB_STATEMENT_TIMEOUT_MS), autoLoadEntities: true, retryAttempts: 0 }),
          // pending migrations run before anything else uses the database, one instance at a time
          dataSourceFactory: (options) => initializeMigrated(new DataSource(options!)),
        }),
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        AuthModule,
        HealthModule,
        EventsModule,
        WebhooksModule,
        DeliveryModule,
        MetricsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
