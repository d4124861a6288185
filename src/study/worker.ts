// A Piscina worker: loads the kernels and the digits once, then serves rounds.
import { trainRound, sharedKernels, RoundResult } from '../train.js';
import { ModelId } from '../models.js';
import { Build } from '../kernels.js';

export interface RoundTask {
  model: ModelId;
  round: number;
  seed: number;
  epochs: number;
  pairs: number;
  build: Build;
}

/** A finished round as the study keeps it: the round's result plus its index. */
export type RoundRecord = RoundResult & { round: number };

export default async function runTask(task: RoundTask): Promise<RoundRecord> {
  const kernels = await sharedKernels(task.build);
  const r = await trainRound({ model: task.model, seed: task.seed, epochs: task.epochs, pairs: task.pairs, kernels });
  return { ...r, round: task.round };
}
