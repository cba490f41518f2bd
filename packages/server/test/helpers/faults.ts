/**
 * Fault injection on real session workers, from the outside: a crash is the worker thread terminated
 * under the model (as an abort in native code would end it), a hang is the worker protocol's `hang`
 * message, which blocks the thread as a stuck session.run would. Either applies to one worker or to
 * every instance of a group.
 */
import assert from 'node:assert/strict';
import type { InstanceGroup } from '../../src/inference/instance-group.js';
import type { ModelWorker } from '../../src/inference/worker-client.js';
import type { HangRequest } from '../../src/inference/worker-protocol.js';
import type { ModelState, ModelVersion, Serving } from '../../src/models/model-version.js';

const workersOf = (target: ModelWorker | InstanceGroup): readonly ModelWorker[] =>
  'instances' in target ? target.instances : [target];

/** Kills the worker thread(s) as a crash would; the worker client notices the exit and restarts them. */
export async function crashWorkers(target: ModelWorker | InstanceGroup): Promise<void> {
  await Promise.all(
    workersOf(target).map(async (worker) => {
      await worker.thread?.terminate();
    }),
  );
}

/** Blocks the worker thread(s) for `ms`; runs sent meanwhile wait, and past the run limit the worker is declared hung. */
export function hangWorkers(target: ModelWorker | InstanceGroup, ms: number): void {
  for (const worker of workersOf(target)) worker.thread?.postMessage({ type: 'hang', ms } satisfies HangRequest);
}

/**
 * Runs `body` with `version` serving through `serving` (e.g. instances with a short run limit) instead of
 * what the registry loaded, then puts the loaded one back. ModelVersion offers no way to swap what a ready
 * version serves with, by design; this writes its private state, which only a test may do.
 */
export async function withServing(version: ModelVersion, serving: Serving, body: () => Promise<void>): Promise<void> {
  const slot = version as unknown as { current: ModelState };
  const loaded = slot.current;
  assert.equal(loaded.status, 'ready', 'withServing needs a ready version');
  slot.current = { status: 'ready', serving };
  try {
    await body();
  } finally {
    slot.current = loaded;
  }
}
