import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres, EmbeddedPostgresError } from '../../src/database/embedded-postgres';
import { eventually } from '../utils/capture-server';
import { freePort } from '../utils/service-process';

const isRoot = process.getuid?.() === 0;

function reachableTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-epg-'));
  chmodSync(dir, 0o755);
  return dir;
}

describe('Embedded PostgreSQL launcher (e2e)', () => {
  (isRoot ? it : it.skip)('as root, refuses a data folder the postgres user cannot reach, saying what to do', async () => {
    const locked = mkdtempSync(join(tmpdir(), 'atlas-locked-'));
    chmodSync(locked, 0o700);
    const pg = new EmbeddedPostgres({ dataDir: join(locked, 'data', 'pg'), port: await freePort(), fast: true });
    const err = await pg.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddedPostgresError);
    expect((err as Error).message).toContain(`cannot enter ${locked}`);
    expect((err as Error).message).toMatch(/DATA_DIR|DATABASE_URL/);
  });

  it('names EMBEDDED_PG_PORT when its port is taken', async () => {
    const port = await freePort();
    const sockets: Socket[] = [];
    const blocker: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const pg = new EmbeddedPostgres({ dataDir: join(reachableTmp(), 'pg'), port, fast: true });
      await expect(pg.start()).rejects.toThrow(/Port \d+ is already in use.*EMBEDDED_PG_PORT/);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((r) => blocker.close(r));
    }
  });

  it('keeps its data across a stop and a start, and will not share a data folder whose server has a live owner', async () => {
    const dir = reachableTmp();
    const port = await freePort();
    const first = new EmbeddedPostgres({ dataDir: join(dir, 'pg'), port, fast: true });
    await first.start();
    await first.createDatabase('kept');
    await first.stop();

    const second = new EmbeddedPostgres({ dataDir: join(dir, 'pg'), port, fast: true });
    await second.start();
    expect(await second.databaseExists('kept')).toBe(true);
    // simulate a crash of the owning process: the server keeps running, but it is not ours any more
    (second as unknown as { process?: unknown }).process = undefined;

    const third = new EmbeddedPostgres({ dataDir: join(dir, 'pg'), port, fast: true });
    // the orphan still has a live parent (this jest process), so it is another user's server
    await expect(third.start()).rejects.toThrow(/already running PostgreSQL/);
    const client = new Client({ connectionString: second.url('kept') });
    await client.connect();
    await client.end();
    // once that server is gone, the folder can be started again
    const orphan = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(orphan, 'SIGINT');
    await eventually(
      () => {
        try {
          process.kill(orphan, 0);
          return false; // still shutting down
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'ESRCH';
        }
      },
      15000,
      50,
    );
    await third.start();
    expect(await third.databaseExists('kept')).toBe(true);
    await third.stop();
  });
});
