import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AttemptStore } from './queue/attempt-store';
import { DeliveryController } from './api/delivery.controller';
import { DeliveryLifecycle } from './delivery-lifecycle';
import { DeliveryObserver } from './delivery-observer';
import { DeliveryService } from './delivery.service';
import { Dispatcher } from './queue/dispatcher';
import { EventDetailController } from './api/event-detail.controller';
import { FanOutService } from './queue/fan-out.service';
import { QueueSnapshotService } from './api/queue-snapshot.service';
import { AttemptLogService } from './api/attempt-log.service';
import { AttemptPreparer } from './queue/attempt-preparer';
import { ResultWriter } from './queue/result-writer';
import { RetentionJob } from './retention.job';
import { StatsService } from './api/stats.service';
import { TimeseriesController } from './api/timeseries.controller';
import { TimeseriesService } from './api/timeseries.service';
import { WebhookRollups } from './api/webhook-rollups';
import { Sweeper } from './queue/sweeper';
import { PacedLane } from './queue/paced-lane';
import { PacingStore } from './queue/pacing-store';
import { WebhookSender } from './sending/webhook-sender';

@Module({
  imports: [EventsModule, WebhooksModule],
  // TimeseriesController first: its `stats/…` and `events/delivery-summary` routes must not be taken for ids
  controllers: [TimeseriesController, DeliveryController, EventDetailController],
  providers: [
    AttemptStore,
    ResultWriter,
    WebhookSender,
    DeliveryObserver,
    AttemptPreparer,
    Dispatcher,
    PacingStore,
    PacedLane,
    FanOutService,
    Sweeper,
    DeliveryLifecycle,
    DeliveryService,
    AttemptLogService,
    StatsService,
    TimeseriesService,
    WebhookRollups,
    RetentionJob,
    QueueSnapshotService,
  ],
  exports: [DeliveryObserver, Dispatcher, Sweeper, QueueSnapshotService],
})
export class DeliveryModule {}
