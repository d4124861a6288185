/**
 * simdnet: train small neural networks on any CPU, with WebAssembly SIMD kernels.
 * This entry point is the core (kernels, layers, the model API, the study's
 * networks, data and training rounds): it imports no node: module, so it also
 * runs in browsers. The Node-only parts (the study's worker pool and log, the
 * report, the queue) are in `simdnet/node`.
 *
 * ```ts
 * import { trainRound } from 'simdnet';
 * const r = await trainRound({ model: 4, seed: 0, epochs: 5 });
 * console.log(r.records.map((e) => e.testAccuracy));
 * ```
 * @packageDocumentation
 */
import { BuildChoice, loadKernels } from './kernels.js';
import { ModelId, PairModel } from './models.js';

export { loadKernels, resolveBuild, simdSupported, preloadKernels, Kernels, MEMORY_LIMIT } from './kernels.js';
export { setHelperWorker, runHelper } from './team.js';
export type { HelperData, KernelCall } from './team.js';
export type { Build, BuildChoice, KernelExports } from './kernels.js';
export {
  Net, Param, Conv2d, Conv2dBatchNorm, ConvReluMaxPool, Linear, BatchNorm, ReLU, ReluMaxPool, Pool2d, GlobalAvgPool2d, Activation, Dropout, Stack, PairConcat, GradSum,
  ADAM, convGeometry, checkOptimizer,
} from './layers.js';
export type { Act, Layer, NamedBuffer, Optimizer, Padding, ConvOptions, ConvAlgorithm } from './layers.js';
export { Model, LayerSpec, SymbolicTensor, layers, sequential, model, input, chain, stack, unstack, concat } from './nn.js';
export type { Shape, Data, LossName, LossSpec, CompileOptions, FitOptions, EpochLog, History, Conv2dOptions } from './nn.js';
export { PairModel, studyNetwork, MODEL_IDS, MODEL_NAMES, IMAGE, DIGIT_CLASSES, AUX_WEIGHT } from './models.js';
export type { ModelId, LossParts } from './models.js';
export { trainRound, sharedKernels, DEFAULTS } from './train.js';
export type { RoundOptions, RoundResult, EpochRecord } from './train.js';
export { loadDigits, drawRound, loadMnist } from './data.js';
export type { DigitPool, PairSet, RoundData, ImageSet } from './data.js';
export { STUDY_DEFAULTS, checkSettings, roundTask, roundThreads } from './study/settings.js';
export { runRound } from './study/worker.js';
export type { RoundHooks } from './study/worker.js';
export type { StudySettings, RoundRecord, RoundTask } from './study/settings.js';
export { aggregate } from './study/aggregate.js';
export type { ModelAggregate } from './study/aggregate.js';
export { mean, std, welch } from './study/stats.js';
export { ORIGINAL_TABLE, tableRows, tableMarkdown, tableText, tableCsv } from './report/table.js';
export { figureSpec, FIGURE1, FIGURE2 } from './report/chart.js';
export type { Panel } from './report/chart.js';
export { encodeSafetensors, decodeSafetensors, netTensors, loadNetTensors, saveNet, loadNet } from './safetensors.js';
export type { TensorEntry } from './safetensors.js';
export { Rng } from './prng.js';
export { fetchedAssets, provideAssets } from './asset.js';

/**
 * Builds one of the study's four networks on freshly loaded kernels.
 * @param model 1 (no sharing), 2 (weight sharing), 3 (auxiliary loss) or 4 (batch norm)
 * @param options.build 'simd', 'scalar' or 'auto' (default: SIMD where `WebAssembly.validate` accepts it)
 * @param options.batch the largest batch, in pairs (default 100)
 * @param options.seed initialisation seed (default 0)
 */
export async function createModel(model: ModelId, options: { build?: BuildChoice; batch?: number; seed?: number } = {}): Promise<PairModel> {
  const k = await loadKernels(options.build ?? 'auto');
  return new PairModel(k, model, options.batch ?? 100, options.seed ?? 0);
}
