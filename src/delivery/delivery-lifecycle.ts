import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Dispatcher } from './queue/dispatcher';
import { FanOutService } from './queue/fan-out.service';
import { PacedLane } from './queue/paced-lane';
import { Sweeper } from './queue/sweeper';

/**
 * Shutdown in the one order that loses nothing, before the database pool
 * closes: stop the sweeper, stop taking events from the bus, stop the paced
 * lane's claims, then let the dispatcher finish (or return) its in-flight
 * attempts and commit results.
 */
@Injectable()
export class DeliveryLifecycle implements BeforeApplicationShutdown {
  constructor(
    private readonly sweeper: Sweeper,
    private readonly fanOut: FanOutService,
    private readonly dispatcher: Dispatcher,
    private readonly lane: PacedLane,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.fanOut.stop();
    await this.lane.stop();
    await this.dispatcher.shutdown();
  }
}
