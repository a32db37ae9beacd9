/**
 * When to claim due attempts from the queue: an explicit state machine.
 *
 * The loop does not know SQL or slots; it is handed a `claim` step that
 * claims what there is room for, starts it, and says what it saw of the
 * queue. The loop decides *when* that step runs:
 *
 *   idle ──wake──▶ scheduled ──(next turn)──▶ claiming ──done──▶ idle
 *                                      │  ▲         │
 *                      wake while claiming│  │       │ done, but woken meanwhile
 *                                      ▼  │         ▼
 *                                  claimingStale ──done──▶ scheduled
 *   claiming ──writes lag──▶ throttled ──writes caught up──▶ scheduled
 *   any ──stop──▶ stopped
 *
 * Alongside the state, what the last claim taught about the queue:
 * `drained` (it found nothing and skipped no webhook at its limit: a freed
 * slot need not look), `more` (more may be due: a freed slot claims again at
 * once instead of at the next sweep), `backlog` (it took all the room it had:
 * claims prefetch ahead into the waiting room).
 *
 * Wakes coalesce: any number of slot releases or queued attempts within one
 * turn of the event loop give one claim.
 */

export type LoopState = 'idle' | 'scheduled' | 'claiming' | 'claimingStale' | 'throttled' | 'stopped';
export type QueueView = 'drained' | 'more' | 'backlog';

/** What one claim step saw. */
export interface ClaimReport {
  /** Attempts claimed. */
  claimed: number;
  /** What the queue looks like after it. */
  queue: QueueView;
}

export interface ClaimLoopDeps {
  /** Claims (with the prefetch depth `queue` suggests) and starts what it claimed. */
  claim: (queue: QueueView) => Promise<ClaimReport>;
  /** True while result writes lag so far behind that claiming more would only grow the lag. */
  writesLagging: () => boolean;
  /** Resolves when the result writes have caught up. */
  writesDrained: () => Promise<void>;
  /** Runs `fn` on a later turn of the event loop (setImmediate; tests pass a manual queue). */
  defer: (fn: () => void) => void;
  onError: (err: Error) => void;
}

/** Why the loop was woken: a slot freed up (claims only if more may be due), or attempts were queued. */
export type WakeReason = 'slotFreed' | 'queued';

export class ClaimLoop {
  private current: LoopState = 'idle';
  private view: QueueView = 'more';
  private running: Promise<number> | null = null;

  constructor(private readonly deps: ClaimLoopDeps) {}

  get state(): LoopState {
    return this.current;
  }

  get queue(): QueueView {
    return this.view;
  }

  wake(reason: WakeReason): void {
    if (reason === 'queued' && this.view === 'drained') this.view = 'more';
    switch (this.current) {
      case 'idle':
        if (this.view !== 'drained') this.schedule();
        return;
      case 'claiming':
        // the running claim read the queue and the slots before this: it may have missed it
        this.current = 'claimingStale';
        if (reason === 'slotFreed' && this.view === 'drained') this.view = 'more';
        return;
      case 'scheduled':
      case 'claimingStale':
      case 'throttled':
      case 'stopped':
        return;
    }
  }

  /**
   * Claims now (the sweeper's clock), or joins the claim under way; resolves
   * with how many attempts it claimed. Never rejects.
   */
  tick(): Promise<number> {
    if (this.current === 'stopped') return Promise.resolve(0);
    if (this.running) return this.running;
    if (this.current === 'throttled') return Promise.resolve(0);
    return this.run();
  }

  /** No claim starts after this; resolves when the one under way (if any) has ended. */
  async stop(): Promise<void> {
    this.current = 'stopped';
    await this.running;
  }

  private schedule(): void {
    this.current = 'scheduled';
    this.deps.defer(() => {
      if (this.current === 'scheduled') void this.run();
    });
  }

  private run(): Promise<number> {
    if (this.deps.writesLagging()) {
      this.current = 'throttled';
      void this.deps.writesDrained().then(() => {
        if (this.current !== 'throttled') return;
        this.current = 'idle';
        this.wake('queued');
      });
      return Promise.resolve(0);
    }
    this.current = 'claiming';
    this.running = this.deps
      .claim(this.view)
      .then(
        (report) => {
          this.view = report.queue;
          return report.claimed;
        },
        (err: Error) => {
          this.deps.onError(err);
          return 0;
        },
      )
      .finally(() => {
        this.running = null;
        this.afterClaim();
      });
    return this.running;
  }

  private afterClaim(): void {
    if (this.current === 'stopped') return;
    if (this.current === 'claimingStale') {
      if (this.view === 'drained') this.view = 'more';
      this.schedule();
      return;
    }
    this.current = 'idle';
  }
}
