/**
 * Node/V8 flags the server process runs with. Every launcher carries them: `npm start`, the `sagan-serve`
 * shebang (src/cli.ts), the Dockerfile's CMD and the scripts that start the CLI (bench, overload, soak);
 * test/node-flags.test.ts holds the four equal to this list. A later flag of the same name wins, so
 * `node --max-semi-space-size=16 dist/src/cli.js` or BENCH_NODE_FLAGS undoes one.
 *
 * --max-semi-space-size=2 (MiB): caps V8's young generation at 2 x 2 MiB (by default it grows to
 *   2 x 16 MiB). Why: under saturation the HTTP thread's scavenges grew with the young generation, 5-14 ms
 *   each, and a /healthz probe that lands in one waits for it; most probes over 7 ms coincided with a GC
 *   pause. With 2 MiB the pauses are about 1.5 ms (median) and more frequent: GC takes about 2% more of
 *   the HTTP thread and throughput is unchanged within noise, while /healthz p99 at 64 clients went from
 *   a median of 12.1 to 9.2 ms on a 2-core VM (BENCHMARKS.md, "/healthz under saturation, second pass").
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
