import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The database as a terminus health indicator: `SELECT 1` on the application's pool.
 *
 * Not terminus's own TypeOrmHealthIndicator: it bounds the ping with a client-side timer, which
 * answers "down" but leaves the query running on a pool connection. This ping is bounded by the
 * pool instead: `connectionTimeoutMillis` (5 s) when no connection can be had, and PostgreSQL's
 * `statement_timeout` (DB_STATEMENT_TIMEOUT_MS), which cancels the statement on the server.
 */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly health: HealthIndicatorService,
  ) {}

  async ping<const Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    try {
      await this.db.query('SELECT 1');
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}
