// One training round of the study: data for the seed, a fresh model, Adam,
// mini-batches of 100 reshuffled every epoch, and per-epoch evaluation: the
// model API's fit on the round's pairs (two inputs: digit 0 and digit 1).
import { BuildChoice, Kernels, loadKernels, resolveBuild, Build } from './kernels.js';
import { ModelId, MODEL_IDS, PairModel } from './models.js';
import { drawRound, loadDigits, PairSet } from './data.js';

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  trainLoss: number;
  /** Share of training pairs predicted right during the epoch's training passes. */
  trainAccuracy: number;
  /** Share of test pairs predicted right in evaluation mode after the epoch. */
  testAccuracy: number;
  /** Share of test digits classified right by the digit head (models 3 and 4). */
  testDigitAccuracy?: number;
}

export interface RoundResult {
  model: ModelId;
  seed: number;
  epochs: number;
  pairs: number;
  build: Build;
  records: EpochRecord[];
  finalTestAccuracy: number;
  /** Training plus per-epoch evaluation, data loading excluded. */
  seconds: number;
  /** Set when the loss became NaN or infinite: the round stopped there. */
  diverged?: { epoch: number; batch: number; loss: number };
}

export interface RoundOptions {
  model: ModelId;
  seed: number;
  epochs?: number;
  pairs?: number;
  /** Kernel build; ignored when `kernels` is given. Default 'auto'. */
  build?: BuildChoice;
  /**
   * Plan into a loaded kernel instance (a worker serving many rounds does);
   * then the returned model's memory is the caller's to free with
   * `model.model.dispose()`. Default: a fresh instance the model owns.
   */
  kernels?: Kernels;
  /**
   * Threads per kernel call when the round loads its own kernels (default 1;
   * Node and Deno): the same numbers for any count. Helpers stop when the round ends.
   */
  threads?: number | 'auto';
  batch?: number;
  onEpoch?: (record: EpochRecord) => void;
  signal?: AbortSignal;
}

export const DEFAULTS = { epochs: 60, pairs: 1000, batch: 100 };

const kernelCache = new Map<Build, Promise<Kernels>>();

/** One kernel instance per build per process (rounds release what they plan). */
export async function sharedKernels(choice: BuildChoice = 'auto'): Promise<Kernels> {
  const build = await resolveBuild(choice);
  let k = kernelCache.get(build);
  if (!k) {
    k = loadKernels(build);
    kernelCache.set(build, k);
  }
  return k;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** A pair set as the model's data: inputs [digit 0 images, digit 1 images], targets [comparison, classes [n, 2]]. */
function asData(s: PairSet, digits: boolean): [Float32Array[], (Float32Array | Int32Array)[]] {
  const classes = new Int32Array(2 * s.n);
  for (let b = 0; b < s.n; b++) {
    classes[2 * b] = s.c0[b];
    classes[2 * b + 1] = s.c1[b];
  }
  return [[s.x0, s.x1], digits ? [s.target, classes] : [s.target]];
}

/** Trains one round of the study; returns its per-epoch records and the trained network (`network`: predict, save, read weights). */
export async function trainRound(opts: RoundOptions): Promise<RoundResult & { network: PairModel }> {
  const { model: id, seed } = opts;
  const epochs = opts.epochs ?? DEFAULTS.epochs, pairs = opts.pairs ?? DEFAULTS.pairs, batch = opts.batch ?? DEFAULTS.batch;
  if (!MODEL_IDS.includes(id)) throw new Error(`unknown model ${String(id)} (1, 2, 3 or 4)`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  checkCount('epochs', epochs);
  checkCount('pairs', pairs);
  checkCount('batch', batch);
  const k = opts.kernels ?? (await loadKernels(opts.build ?? 'auto', { threads: opts.threads }));
  const data = drawRound(await loadDigits(), seed, pairs);
  const pm = new PairModel(k, id, batch, seed);
  const digits = id >= 3;
  const [x, y] = asData(data.train, digits), [vx, vy] = asData(data.test, digits);
  const records: EpochRecord[] = [];
  const start = performance.now();
  let history;
  try {
    history = await pm.model.fit(x, y, {
      epochs, batchSize: batch, seed, validationData: [vx, vy], signal: opts.signal,
      onEpoch: (e) => {
        const r: EpochRecord = { epoch: e.epoch, trainLoss: e.loss, trainAccuracy: e.accuracy[0], testAccuracy: e.val!.accuracy[0] };
        if (digits) r.testDigitAccuracy = e.val!.accuracy[1];
        records.push(r);
        opts.onEpoch?.(r);
      },
    });
  } catch (e) {
    if (opts.kernels) pm.model.dispose();
    else k.close();
    throw e;
  }
  const seconds = (performance.now() - start) / 1000;
  if (!opts.kernels) k.close(); // the returned network predicts on one thread
  const diverged = history.stopped;
  const last = records[records.length - 1];
  return {
    model: id, seed, epochs, pairs, build: k.build, records,
    finalTestAccuracy: diverged || !last ? NaN : last.testAccuracy,
    seconds, ...(diverged ? { diverged } : {}),
    network: pm,
  };
}
