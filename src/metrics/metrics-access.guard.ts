import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest as Request } from 'fastify';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { createMetricsAccess } from './metrics-access';

/** Lets a scrape through from METRICS_ALLOWED_NETWORKS or with the METRICS_TOKEN bearer token. */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly decide: ReturnType<typeof createMetricsAccess>;

  constructor(config: AppConfig) {
    this.decide = createMetricsAccess({ token: config.get('METRICS_TOKEN'), allowedNetworks: config.get('METRICS_ALLOWED_NETWORKS') });
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const decision = this.decide(req.ip, req.headers.authorization);
    if (decision === 'allowed') return true;
    if (decision === 'unauthenticated') {
      const message = req.headers.authorization
        ? 'Invalid metrics token'
        : `Metrics need Authorization: Bearer <METRICS_TOKEN> from ${req.ip ?? 'this address'} (not in METRICS_ALLOWED_NETWORKS)`;
      throw new AppError('UNAUTHENTICATED', message, undefined, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
    }
    throw new AppError(
      'FORBIDDEN',
      `Metrics are only served to METRICS_ALLOWED_NETWORKS, which does not include ${req.ip ?? 'this address'}; set METRICS_TOKEN to scrape from elsewhere`,
    );
  }
}
