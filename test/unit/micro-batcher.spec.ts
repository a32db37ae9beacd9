import { MicroBatcher } from '../../src/delivery/micro-batcher';

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
});
