/** Starts bench/receiver-process.ts as a separate process and talks to it over IPC. */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { ReceiverCommand, ReceiverStats } from '../receiver-process';
import { onCleanup } from './cleanup';
import { sleep } from './stats';

type Pending = (msg: Record<string, unknown>) => void;

export class ReceiverControl {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly child: ChildProcess,
    /** Loopback ports, one per simulated endpoint. */
    readonly ports: number[],
  ) {
    child.on('message', (msg: Record<string, unknown>) => {
      const id = msg.id as number | undefined;
      if (id !== undefined) {
        this.pending.get(id)?.(msg);
        this.pending.delete(id);
      }
    });
  }

  static async start(ports: number, secret: string): Promise<ReceiverControl> {
    const child = fork(join(__dirname, '..', 'receiver-process.js'), [String(ports)], {
      env: { ...process.env, BENCH_RECEIVER_SECRET: secret },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    onCleanup(
      'receiver',
      async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
      },
      () => child.kill('SIGKILL'),
    );
    const ready = await new Promise<{ ports: number[] }>((resolve, reject) => {
      child.once('message', (m: { ready?: boolean; ports: number[] }) => (m.ready ? resolve(m) : reject(new Error('receiver: unexpected first message'))));
      child.once('exit', (code) => reject(new Error(`receiver exited during start-up (code ${code})`)));
    });
    return new ReceiverControl(child, ready.ports);
  }

  get pid(): number {
    return this.child.pid!;
  }

  url(index: number): string {
    return `http://127.0.0.1:${this.ports[index % this.ports.length]}/`;
  }

  private call<T>(cmd: { cmd: ReceiverCommand['cmd']; record?: boolean }): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as Pending);
      this.child.send({ ...cmd, id });
    });
  }

  async reset(record = false): Promise<void> {
    await this.call({ cmd: 'reset', record });
  }

  async stats(): Promise<ReceiverStats> {
    return (await this.call<{ stats: ReceiverStats }>({ cmd: 'stats' })).stats;
  }

  /** Event id (webhook-id header) and arrival time of every request since reset(true). */
  async arrivals(): Promise<{ ids: string[]; times: number[] }> {
    return this.call({ cmd: 'arrivals' });
  }

  /**
   * Waits until `expected` requests have arrived. Gives up when nothing new
   * arrives for `stallMs` or after `maxMs`; returns the last stats either way.
   */
  async waitFor(expected: number, stallMs = 30_000, maxMs = 600_000): Promise<ReceiverStats> {
    const t0 = Date.now();
    let last = -1;
    let lastChange = Date.now();
    while (true) {
      const s = await this.stats();
      if (s.count >= expected) return s;
      if (s.count !== last) {
        last = s.count;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > stallMs || Date.now() - t0 > maxMs) return s;
      await sleep(20);
    }
  }
}
