/**
 * Node.js flags the service runs with (`npm start`, and the tests and the
 * benchmark that start the built service): they must be given at launch,
 * V8 ignores them later.
 *
 * `--max-semi-space-size=32`: a young generation of 2 x 32 MB instead of
 * 2 x 16 MB. A delivery's objects (request, response, result) live a few
 * milliseconds to a few tens of milliseconds; with the default size, enough
 * of them were still alive at each scavenge to be promoted to the old
 * generation, and the extra GC work cost throughput.
 *
 * `--heap-growing-percent=200`: the old generation may grow to 3 x what
 * survived the last full GC before the next one (V8 picks up to about 4 x
 * when GC looks cheap), which keeps the peak RSS under a backlog down at the
 * same delivery rate. The measurements are in docs/engine.md.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--heap-growing-percent=200'];
