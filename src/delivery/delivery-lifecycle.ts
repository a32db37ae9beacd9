import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Dispatcher } from './queue/dispatcher';
import { FanOutService } from './queue/fan-out.service';
import { Sweeper } from './queue/sweeper';

/**
 * Shutdown in the one order that loses nothing, before the database pool
 * closes: stop the sweeper, stop taking events from the bus, then let the
 * dispatcher finish (or return) its in-flight attempts and commit results.
 */
@Injectable()
export class DeliveryLifecycle implements BeforeApplicationShutdown {
  constructor(
    private readonly sweeper: Sweeper,
    private readonly fanOut: FanOutService,
    private readonly dispatcher: Dispatcher,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
    await this.fanOut.stop();
    await this.dispatcher.shutdown();
  }
}
