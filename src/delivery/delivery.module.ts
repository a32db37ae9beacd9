import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AttemptStore } from './attempt-store';
import { DeliveryController } from './delivery.controller';
import { DeliveryLifecycle } from './delivery-lifecycle';
import { DeliveryObserver } from './delivery-observer';
import { DeliveryService } from './delivery.service';
import { Dispatcher } from './dispatcher';
import { EventDetailController } from './event-detail.controller';
import { FanOutService } from './fan-out.service';
import { LogsService } from './logs.service';
import { AttemptPreparer } from './queue/attempt-preparer';
import { ResultWriter } from './result-writer';
import { RetentionJob } from './retention.job';
import { StatsService } from './stats.service';
import { Sweeper } from './sweeper';
import { WebhookSender } from './webhook-sender';

@Module({
  imports: [EventsModule, WebhooksModule],
  controllers: [DeliveryController, EventDetailController],
  providers: [
    AttemptStore,
    ResultWriter,
    WebhookSender,
    DeliveryObserver,
    AttemptPreparer,
    Dispatcher,
    FanOutService,
    Sweeper,
    DeliveryLifecycle,
    DeliveryService,
    LogsService,
    StatsService,
    RetentionJob,
  ],
  exports: [DeliveryObserver, Dispatcher, Sweeper],
})
export class DeliveryModule {}
