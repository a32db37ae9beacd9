/**
 * The service as a user first runs it, without DATABASE_URL: it starts its own
 * embedded PostgreSQL under DATA_DIR. Plus the checks a shutdown test needs:
 * which `postgres` processes serve a data folder.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, startService } from './service-process';

/** A fresh temporary folder the OS user `postgres` can enter (needed when tests run as root). */
export function postgresReachableTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Starts the built service with no DATABASE_URL (an empty value is "unset" for
 * the config schema), so it runs an embedded PostgreSQL in `dataDir` on `pgPort`.
 */
export function startEmbeddedService(dataDir: string, pgPort: number, env: Record<string, string> = {}, timeoutMs = 60000): Promise<ServiceProcess> {
  return startService('', { ...env, DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) }, timeoutMs);
}

/** The pid in DATA_DIR/pg/postmaster.pid, if the file exists. */
export function postmasterPid(dataDir: string): number | null {
  const file = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return pid > 0 ? pid : null;
}

/**
 * Pids of running PostgreSQL processes serving `dataDir`: the postmaster
 * (`postgres -D <dataDir>/pg …`) and its children (checkpointer, walwriter, backends…).
 */
export function postgresProcessesFor(dataDir: string): number[] {
  const procs: Array<{ pid: number; ppid: number; args: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie is dead, just not reaped yet
      procs.push({ pid: Number(entry), ppid: Number(fields[1]), args: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      continue; // exited meanwhile
    }
  }
  const roots = new Set(procs.filter((p) => p.args[0].endsWith('postgres') && p.args.some((a) => a.startsWith(dataDir))).map((p) => p.pid));
  return procs.filter((p) => roots.has(p.pid) || roots.has(p.ppid)).map((p) => p.pid);
}

/** True while a process with this pid exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
