// One timed round in a fresh process, after a short warm-up round of the same
// model (V8 tiers the wasm up during the first seconds): bench/common.ts's
// childRound runs it. Arguments: model build epochs seed [threads].
import { trainRound } from '../src/train.js';
import { ModelId } from '../src/models.js';
import { Build, loadKernels } from '../src/kernels.js';

const [model, build, epochs, seed, threads] = process.argv.slice(2);
const kernels = await loadKernels(build as Build, { threads: Number(threads ?? 1) });
(await trainRound({ model: Number(model) as ModelId, seed: Number(seed) + 1, epochs: 5, kernels })).network.model.dispose();
const { network, ...r } = await trainRound({ model: Number(model) as ModelId, seed: Number(seed), epochs: Number(epochs), kernels });
process.stdout.write(JSON.stringify(r));
