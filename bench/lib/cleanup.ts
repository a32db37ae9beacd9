/**
 * Everything the benchmark starts registers how to stop it here, so a failure,
 * Ctrl-C or SIGTERM still stops the service, the receiver and PostgreSQL and
 * removes the temporary folder. Cleanups run newest first.
 */
interface Entry {
  name: string;
  /** Orderly stop (awaited). */
  run: () => Promise<void>;
  /** Last resort from the synchronous 'exit' handler (kill -9 and the like). */
  sync?: () => void;
}

const entries: Entry[] = [];
let running: Promise<void> | null = null;
let installed = false;

export function onCleanup(name: string, run: () => Promise<void>, sync?: () => void): () => void {
  const entry: Entry = { name, run, sync };
  entries.push(entry);
  return () => {
    const i = entries.indexOf(entry);
    if (i >= 0) entries.splice(i, 1);
  };
}

export function cleanupAll(): Promise<void> {
  if (!running) {
    running = (async () => {
      while (entries.length) {
        const entry = entries.pop()!;
        try {
          await withTimeout(entry.run(), 20_000, entry.name);
        } catch (err) {
          console.error(`cleanup of ${entry.name} failed: ${(err as Error).message}`);
          try {
            entry.sync?.();
          } catch {
            /* best effort */
          }
        }
      }
    })();
  }
  return running;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Installs SIGINT/SIGTERM/uncaught-error handlers that clean up and exit. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.error(`\n${signal} again: exiting now`);
      process.exit(130);
    }
    signalled = true;
    console.error(`\n${signal}: stopping the service, the receiver and PostgreSQL…`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // once stopping, the scenario still running loses its connections: not worth reporting
  process.on('uncaughtException', (err) => {
    if (running) return;
    console.error('uncaught exception:', err);
    void cleanupAll().finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (err) => {
    if (running) return;
    console.error('unhandled rejection:', err);
    void cleanupAll().finally(() => process.exit(1));
  });
  process.on('exit', () => {
    for (const e of [...entries].reverse()) {
      try {
        e.sync?.();
      } catch {
        /* best effort */
      }
    }
  });
}
