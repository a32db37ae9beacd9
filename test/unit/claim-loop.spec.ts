import { ClaimLoop, ClaimReport, QueueView } from '../../src/delivery/queue/claim-loop';
import { queueAfter } from '../../src/delivery/queue/dispatcher';

/** A claim loop on a fake queue: claims resolve when the test says, deferred work runs when the test flushes it. */
function harness() {
  const deferred: Array<() => void> = [];
  const claims: Array<{ queue: QueueView; resolve: (r: ClaimReport) => void; reject: (e: Error) => void }> = [];
  let lagging = false;
  let drain: () => void = () => undefined;
  const errors: Error[] = [];
  const loop = new ClaimLoop({
    claim: (queue) => new Promise<ClaimReport>((resolve, reject) => claims.push({ queue, resolve, reject })),
    writesLagging: () => lagging,
    writesDrained: () => new Promise<void>((r) => (drain = r)),
    defer: (fn) => deferred.push(fn),
    onError: (err) => errors.push(err),
  });
  const settle = () => new Promise((r) => setImmediate(r)); // lets promise callbacks run
  return {
    loop,
    claims,
    errors,
    flush: () => deferred.splice(0).forEach((fn) => fn()),
    pendingDeferred: () => deferred.length,
    settle,
    /** Ends the oldest open claim with a report, and lets the loop react. */
    finish: async (claimed: number, queue: QueueView) => {
      claims.shift()!.resolve({ claimed, queue });
      await settle();
    },
    setLagging: (v: boolean) => (lagging = v),
    drainWrites: async () => {
      drain();
      await settle();
    },
  };
}

describe('ClaimLoop', () => {
  it('starts idle and claims on the clock (tick), resolving with the count', async () => {
    const h = harness();
    expect(h.loop.state).toBe('idle');
    const n = h.loop.tick();
    expect(h.loop.state).toBe('claiming');
    expect(h.claims).toHaveLength(1);
    await h.finish(7, 'more');
    await expect(n).resolves.toBe(7);
    expect(h.loop.state).toBe('idle');
    expect(h.loop.queue).toBe('more');
  });

  it('a tick during a claim joins it instead of starting a second one', async () => {
    const h = harness();
    const a = h.loop.tick();
    const b = h.loop.tick();
    expect(h.claims).toHaveLength(1);
    await h.finish(3, 'more');
    await expect(Promise.all([a, b])).resolves.toEqual([3, 3]);
  });

  it('coalesces any number of wakes in one turn into one claim', async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) h.loop.wake(i % 2 ? 'slotFreed' : 'queued');
    expect(h.loop.state).toBe('scheduled');
    expect(h.pendingDeferred()).toBe(1);
    expect(h.claims).toHaveLength(0);
    h.flush();
    expect(h.claims).toHaveLength(1);
    expect(h.loop.state).toBe('claiming');
    await h.finish(1, 'more');
    expect(h.loop.state).toBe('idle');
    expect(h.claims).toHaveLength(0);
  });

  it('a freed slot does not claim when the last claim found the queue drained; queued attempts do', async () => {
    const h = harness();
    void h.loop.tick();
    await h.finish(0, 'drained');
    h.loop.wake('slotFreed');
    expect(h.loop.state).toBe('idle');
    expect(h.pendingDeferred()).toBe(0);
    h.loop.wake('queued');
    expect(h.loop.state).toBe('scheduled');
    expect(h.loop.queue).toBe('more');
    h.flush();
    expect(h.claims).toHaveLength(1);
  });

  it('a wake while claiming claims once more after it (the claim may have missed it), even if it found the queue drained', async () => {
    const h = harness();
    void h.loop.tick();
    h.loop.wake('slotFreed');
    h.loop.wake('queued');
    expect(h.loop.state).toBe('claimingStale');
    await h.finish(0, 'drained');
    expect(h.loop.state).toBe('scheduled');
    expect(h.loop.queue).toBe('more');
    h.flush();
    expect(h.claims).toHaveLength(1);
    await h.finish(0, 'drained');
    expect(h.loop.state).toBe('idle');
    expect(h.loop.queue).toBe('drained');
  });

  it('passes the last view of the queue to the claim step (the prefetch depth follows a backlog)', async () => {
    const h = harness();
    void h.loop.tick();
    expect(h.claims[0].queue).toBe('more');
    await h.finish(200, 'backlog');
    h.loop.wake('slotFreed');
    h.flush();
    expect(h.claims[0].queue).toBe('backlog');
  });

  it('throttles while result writes lag, and claims once they have caught up', async () => {
    const h = harness();
    h.setLagging(true);
    await expect(h.loop.tick()).resolves.toBe(0);
    expect(h.loop.state).toBe('throttled');
    expect(h.claims).toHaveLength(0);
    h.loop.wake('queued');
    h.loop.wake('slotFreed');
    await expect(h.loop.tick()).resolves.toBe(0);
    expect(h.claims).toHaveLength(0);
    h.setLagging(false);
    await h.drainWrites();
    expect(h.loop.state).toBe('scheduled');
    h.flush();
    expect(h.claims).toHaveLength(1);
  });

  it('a failed claim is reported, counts 0, and leaves the loop able to claim again', async () => {
    const h = harness();
    const n = h.loop.tick();
    h.claims.shift()!.reject(new Error('connection lost'));
    await expect(n).resolves.toBe(0);
    expect(h.errors.map((e) => e.message)).toEqual(['connection lost']);
    expect(h.loop.state).toBe('idle');
    void h.loop.tick();
    expect(h.claims).toHaveLength(1);
  });

  it('stop waits for the claim under way, and nothing claims after it', async () => {
    const h = harness();
    void h.loop.tick();
    let stopped = false;
    const stopping = h.loop.stop().then(() => (stopped = true));
    await h.settle();
    expect(stopped).toBe(false);
    await h.finish(2, 'backlog');
    await stopping;
    expect(h.loop.state).toBe('stopped');
    h.loop.wake('queued');
    h.flush();
    await expect(h.loop.tick()).resolves.toBe(0);
    expect(h.claims).toHaveLength(0);
  });

  it('a deferred claim scheduled before stop does not run', () => {
    const h = harness();
    h.loop.wake('queued');
    void h.loop.stop();
    h.flush();
    expect(h.claims).toHaveLength(0);
  });
});

describe('queueAfter (what a claim says about the queue)', () => {
  const a = (webhookId: string) => ({ id: 'x', webhookId, eventId: 'e', eventCreatedAt: new Date(0), eventType: 't', attempt: 1, trigger: 'event' as const });

  // the maps give each webhook's room left before the claim; the last argument is the room of webhooks not listed
  it('backlog when the claim filled its room', () => {
    expect(queueAfter([a('w1'), a('w2')], 2, new Map(), 8)).toBe('backlog');
  });
  it('backlog when some webhook reached its limit', () => {
    expect(queueAfter([a('w1')], 10, new Map([['w1', 1]]), 8)).toBe('backlog');
  });
  it('backlog when a webhook not listed took all its room', () => {
    expect(queueAfter([a('w2'), a('w2')], 10, new Map([['w1', 5]]), 2)).toBe('backlog');
  });
  it('more when it found some, with room to spare', () => {
    expect(queueAfter([a('w1')], 10, new Map(), 8)).toBe('more');
    expect(queueAfter([a('w1')], 10, new Map([['w1', 2]]), 8)).toBe('more');
  });
  it('backlog when it found none because a webhook is at its limit (its slots free up soon)', () => {
    expect(queueAfter([], 10, new Map([['w1', 0]]), 8)).toBe('backlog');
  });
  it('drained when it found none and left nobody out', () => {
    expect(queueAfter([], 10, new Map([['w1', 5]]), 8)).toBe('drained');
  });
});
