// One round of a study as a worker runs it: the Piscina worker's default
// export (Node), and what the browser page's Web Workers call (web/worker.ts).
// Kernels and digits are loaded once per worker and serve every round.
import { trainRound, sharedKernels, EpochRecord } from '../train.js';
import { encodeSafetensors, netTensors } from '../safetensors.js';
import type { RoundRecord, RoundTask } from './settings.js';

export interface RoundHooks {
  onEpoch?: (record: EpochRecord) => void;
  /** Threads for this round's kernel calls (default 1: the worker's own kernels); more use an instance of their own with helper threads. */
  threads?: number;
  /** Return the trained network's weights as safetensors bytes (the page keeps one network per model to predict with). */
  weights?: boolean;
}

/** Trains the round of `task` on this worker's kernels; the round's memory is freed for the next. */
export async function runRound(task: RoundTask, hooks: RoundHooks = {}): Promise<{ record: RoundRecord; weights?: Uint8Array }> {
  const threads = hooks.threads ?? 1;
  const kernels = threads > 1 ? undefined : await sharedKernels(task.build);
  const { network, ...r } = await trainRound({ model: task.model, seed: task.seed, epochs: task.epochs, pairs: task.pairs, kernels, build: task.build, threads, onEpoch: hooks.onEpoch });
  try {
    const weights = hooks.weights ? encodeSafetensors(netTensors(network.net, network.trainForwards), { model: String(task.model), round: String(task.round) }) : undefined;
    return { record: { ...r, round: task.round }, ...(weights ? { weights } : {}) };
  } finally {
    network.model.dispose();
  }
}

/** Piscina's entry: a round, with the threads the pool gives it (idle cores join the last rounds: src/study/runner.ts). */
export default async function runTask(task: RoundTask & { threads?: number }): Promise<RoundRecord> {
  const { threads, ...round } = task;
  return (await runRound(round, { threads })).record;
}
