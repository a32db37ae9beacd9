import { MicroBatcher } from '../../src/common/micro-batcher';

const tick = () => new Promise((r) => setImmediate(r));

describe('MicroBatcher', () => {
  it('hands items pushed in the same turn to one batch, at most maxBatch at a time, one batch at a time', async () => {
    const batches: number[][] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const b = new MicroBatcher<number>(3, async (items) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await tick();
      batches.push(items);
      concurrent--;
    });
    for (let i = 1; i <= 7; i++) b.push(i);
    await b.drain();
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(maxConcurrent).toBe(1);
  });

  it('batches what arrives while a batch runs into the next one', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number>(100, async (items) => {
      batches.push(items);
      await tick();
    });
    b.push(1);
    await tick(); // batch [1] starts
    b.push(2);
    b.push(3);
    await b.drain();
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('close() returns what was still queued, waits for the running batch and refuses later pushes', async () => {
    const handled: number[] = [];
    let release!: () => void;
    const b = new MicroBatcher<number>(1, async (items) => {
      await new Promise<void>((r) => (release = r));
      handled.push(...items);
    });
    b.push(1);
    b.push(2);
    await tick(); // [1] is running, [2] queued
    const closing = b.close();
    release();
    expect(await closing).toEqual([2]);
    expect(handled).toEqual([1]);
    expect(b.push(3)).toBe(false);
    expect(b.size).toBe(0);
  });

  it('with concurrency 2 runs two batches side by side, never three', async () => {
    const batches: number[][] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const releases: Array<() => void> = [];
    const b = new MicroBatcher<number>(
      2,
      async (items) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise<void>((r) => releases.push(r));
        batches.push(items);
        concurrent--;
      },
      2,
    );
    for (let i = 1; i <= 6; i++) b.push(i);
    await tick();
    await tick();
    expect(concurrent).toBe(2); // [1, 2] and [3, 4] run, [5, 6] waits
    expect(b.size).toBe(2);
    const done = b.drain();
    while (batches.length < 3) {
      releases.shift()?.();
      await tick();
    }
    await done;
    expect(batches.flat().sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(maxConcurrent).toBe(2);
  });

  it('with lingerMs, the first item waits that long for company; a full batch goes at once', async () => {
    jest.useFakeTimers();
    try {
      const batches: number[][] = [];
      const b = new MicroBatcher<number>(
        3,
        (items) => {
          batches.push(items);
          return Promise.resolve();
        },
        1,
        10,
      );
      b.push(1);
      jest.advanceTimersByTime(5);
      b.push(2);
      expect(batches).toEqual([]);
      jest.advanceTimersByTime(5);
      await Promise.resolve();
      expect(batches).toEqual([[1, 2]]);
      await Promise.resolve(); // the first batch's handler has finished
      b.push(3);
      b.push(4);
      b.push(5); // a full batch: no linger
      jest.advanceTimersByTime(1);
      await Promise.resolve();
      expect(batches).toEqual([
        [1, 2],
        [3, 4, 5],
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sizeBelow resolves once fewer than n items wait, not before', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number>(2, () => gate);
    for (let i = 1; i <= 5; i++) b.push(i);
    await tick(); // [1, 2] taken, 3 wait
    let below3 = false;
    let below1 = false;
    void b.sizeBelow(3).then(() => (below3 = true));
    void b.sizeBelow(1).then(() => (below1 = true));
    await tick();
    expect(below3).toBe(false);
    release();
    await b.drain();
    expect(below3).toBe(true);
    expect(below1).toBe(true);
    expect(b.size).toBe(0);
  });
});
