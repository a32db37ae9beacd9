import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';
import { EventTypesController } from './event-types.controller';
import { EventTypesService } from './event-types.service';
import { WebhookEvent } from './webhook-event.entity';

@Module({
  imports: [TypeOrmModule.forFeature([WebhookEvent])],
  controllers: [EventTypesController, EventsController],
  providers: [EventsService, EventTypesService],
  exports: [EventsService],
})
export class EventsModule {}
