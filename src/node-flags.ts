/**
 * Node.js flags the service runs with (`npm start`, and the tests and the
 * benchmark that start the built service): they must be given at launch,
 * V8 ignores them later.
 *
 * `--max-semi-space-size=32`: a young generation of 2 x 32 MB instead of
 * 2 x 16 MB. A delivery's objects (request, response, result) live a few
 * milliseconds to a few tens of milliseconds; with the default size, enough
 * of them were still alive at each scavenge to be promoted to the old
 * generation (about 20 MB/s at 1,000 deliveries/s), and the extra GC work
 * cost about a seventh of the throughput (benchmark: ~1,350 vs ~1,530
 * deliveries/s on 2 cores).
 *
 * `--heap-growing-percent=200`: the old generation may grow to 3 x what
 * survived the last full GC before the next one (V8 picks up to about 4 x
 * when GC looks cheap). Together with the larger young generation that kept
 * the service's peak RSS under a 100,000-attempt backlog at ~257 MB instead
 * of ~304 MB, at the same delivery rate (100 makes it ~217 MB but costs a
 * fifth of the rate).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--heap-growing-percent=200'];
