/**
 * Fault injection on real session workers, from the outside: a crash is the worker thread terminated
 * under the model (as an abort in native code would end it), a hang is the worker protocol's `hang`
 * message, which blocks the thread as a stuck session.run would. Either applies to one worker or to
 * every instance of a group.
 */
import type { InstanceGroup } from '../../src/inference/instance-group.js';
import type { ModelWorker } from '../../src/inference/worker-client.js';
import type { HangRequest } from '../../src/inference/worker-protocol.js';

const workersOf = (target: ModelWorker | InstanceGroup): readonly ModelWorker[] => ('instances' in target ? target.instances : [target]);

/** Kills the worker thread(s) as a crash would; the worker client notices the exit and restarts them. */
export async function crashWorkers(target: ModelWorker | InstanceGroup): Promise<void> {
  await Promise.all(workersOf(target).map((worker) => worker.thread?.terminate()));
}

/** Blocks the worker thread(s) for `ms`; runs sent meanwhile wait, and past the run limit the worker is declared hung. */
export function hangWorkers(target: ModelWorker | InstanceGroup, ms: number): void {
  for (const worker of workersOf(target)) worker.thread?.postMessage({ type: 'hang', ms } satisfies HangRequest);
}
