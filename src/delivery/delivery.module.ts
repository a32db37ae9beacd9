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
import { ResultWriter } from './result-writer';
import { RetentionJob } from './retention.job';
import { StatsService } from './stats.service';
import { Sweeper } from './sweeper';
import { TimeseriesController } from './timeseries.controller';
import { TimeseriesService } from './timeseries.service';
import { WebhookSender } from './webhook-sender';

@Module({
  imports: [EventsModule, WebhooksModule],
  // TimeseriesController first: its `stats/…` and `events/delivery-summary` routes must not be taken for ids
  controllers: [TimeseriesController, DeliveryController, EventDetailController],
  providers: [
    AttemptStore,
    ResultWriter,
    WebhookSender,
    DeliveryObserver,
    Dispatcher,
    FanOutService,
    Sweeper,
    DeliveryLifecycle,
    DeliveryService,
    LogsService,
    StatsService,
    TimeseriesService,
    RetentionJob,
  ],
  exports: [DeliveryObserver, Dispatcher, Sweeper],
})
export class DeliveryModule {}
