/**
 * Runs the built service (dist/src/main.js) as a child process on a given
 * database, as in production: its own process, its own event loop, talking to
 * PostgreSQL and the receiver over loopback.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { NODE_FLAGS } from '../../src/node-flags';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onCleanup } from './cleanup';
import { freePort } from './pg';
import { nowMs, sleep } from './stats';

const MAIN = resolve(__dirname, '..', '..', 'src', 'main.js');
/** Where --cpu-prof writes (BENCH_CPU_PROF=1): bench/results/profiles/ in the repository. */
export const PROFILE_ROOT = resolve(__dirname, '..', '..', '..', 'bench', 'results', 'profiles');

export interface ServiceHandle {
  pid: number;
  port: number;
  baseUrl: string;
  /** When the process was spawned (ms since the epoch). */
  spawnedAt: number;
  /** When /api/health first answered 200. */
  readyAt: number;
  /** The last 64 kB the service printed. */
  output(): string;
  /** SIGTERM (graceful: in-flight deliveries finish), then SIGKILL after 30 s. */
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  databaseUrl: string;
  env: Record<string, string>;
  /** Extra variables for this start (e.g. WEBHOOK_WORKER=false). */
  overrides?: Record<string, string>;
  /** With a folder: run under --cpu-prof, the profile written there on exit. */
  cpuProfDir?: string;
  /** Called right after spawn (to start sampling memory from the first moment). */
  onSpawn?: (pid: number) => void;
  timeoutMs?: number;
  /** Another built program to run instead of the service (the minimal sender), answering GET /api/health the same way. */
  script?: string;
}

export async function startService(options: StartServiceOptions): Promise<ServiceHandle> {
  const main = options.script ?? MAIN;
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" (npm run bench does it first)`);
  const port = await freePort();
  const nodeArgs: string[] = [...NODE_FLAGS]; // as npm start runs it
  if (options.cpuProfDir) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  let out = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'atlas-bench-svc-')); // unused with DATABASE_URL, but keep the service out of ./.data
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: dataDir,
      ...options.env,
      ...options.overrides,
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnedAt = nowMs();
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 65536) out = out.slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      rmSync(dataDir, { recursive: true, force: true });
      r();
    }),
  );
  let alive = true;
  void exited.then(() => (alive = false));
  const stop = async () => {
    if (!alive) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const unregister = onCleanup('service', stop, () => {
    if (alive) child.kill('SIGKILL');
  });
  void exited.then(unregister);
  options.onSpawn?.(child.pid!);

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (true) {
    if (!alive) throw new Error(`${options.script ? 'the minimal sender' : 'the service'} exited during start-up:\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the service did not become healthy in time:\n${out}`);
    }
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  return { pid: child.pid!, port, baseUrl, spawnedAt, readyAt: nowMs(), output: () => out, stop };
}
