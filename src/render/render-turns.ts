/**
 * Spreads the synchronous part of rendering over event-loop turns. When a batch of 16 returns, its
 * 16 requests would otherwise convert pixels and set up sharp pipelines back to back (about 12 ms on a
 * 2-core machine) while /healthz and new connections wait. Each render starts in its own setImmediate
 * turn, so I/O is polled between them; the asynchronous encoding itself still runs in parallel on
 * libuv's pool, since a turn ends as soon as the render's synchronous part has run.
 */
let tail: Promise<void> = Promise.resolve();

export function onOwnTurn<T>(render: () => Promise<T>): Promise<T> {
  const turn = tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  tail = turn;
  return turn.then(render);
}
