import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('ATLAS Webhooks')
    .setDescription(
      'Signed, retried and logged webhook delivery for ATLAS. Log in with `POST /api/auth/login`, then press **Authorize** and paste the `access_token`.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addTag('Auth', 'Log in, who am I, change password')
    .addTag('Users', 'User management (admin)')
    .addTag('Webhooks', 'Endpoints, their delivery logs and statistics')
    .addTag('Events', 'The event catalogue, emitting events, event history')
    .addTag('Health', 'Liveness and database state')
    .addTag('Metrics', 'Prometheus metrics (GET /metrics, outside /api)')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', swaggerOptions: { persistAuthorization: true } });
}
