// A Piscina worker: loads the kernels and the digits once, then serves rounds.
import { trainRound, sharedKernels } from '../train.js';
import type { RoundRecord, RoundTask } from './settings.js';

export default async function runTask(task: RoundTask): Promise<RoundRecord> {
  const kernels = await sharedKernels(task.build);
  const { network, ...r } = await trainRound({ model: task.model, seed: task.seed, epochs: task.epochs, pairs: task.pairs, kernels });
  network.model.dispose(); // the worker's kernels serve the next round
  return { ...r, round: task.round };
}
