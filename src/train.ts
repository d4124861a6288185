// One training round of the study: data for the seed, a fresh model, Adam,
// mini-batches of 100 reshuffled every epoch, and per-epoch evaluation.
import { BuildChoice, Kernels, loadKernels, resolveBuild, Build } from './kernels.js';
import { DIGIT_CLASSES, IMAGE, ModelId, MODEL_IDS, PairModel } from './models.js';
import { drawRound, loadDigits, PairSet } from './data.js';
import { Rng } from './prng.js';

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
  /** Reuse a loaded kernel instance (a worker serving many rounds does). */
  kernels?: Kernels;
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

/** A pair set copied into kernel memory once per round. */
interface PlacedSet {
  n: number;
  x0: number; x1: number; c0: number; c1: number; target: number;
}

function place(k: Kernels, s: PairSet): PlacedSet {
  const p = { n: s.n, x0: k.alloc(s.x0.length), x1: k.alloc(s.x1.length), c0: k.alloc(s.n), c1: k.alloc(s.n), target: k.alloc(s.n) };
  k.write(p.x0, s.x0);
  k.write(p.x1, s.x1);
  k.i32.set(s.c0, p.c0 >>> 2);
  k.i32.set(s.c1, p.c1 >>> 2);
  k.write(p.target, s.target);
  return p;
}

/** Copies pairs order[from .. from+n) of a placed set into the model's batch buffers (no allocation). */
function loadBatch(k: Kernels, model: PairModel, set: PlacedSet, order: Int32Array | null, from: number, n: number): void {
  const f = k.f32, i = k.i32;
  const d0 = model.inputPtr(n, 0) >>> 2, d1 = model.inputPtr(n, 1) >>> 2;
  const t = model.targets >>> 2, c = model.classes >>> 2;
  for (let b = 0; b < n; b++) {
    const p = order ? order[from + b] : from + b;
    const s0 = (set.x0 >>> 2) + p * IMAGE, s1 = (set.x1 >>> 2) + p * IMAGE;
    f.copyWithin(d0 + b * IMAGE, s0, s0 + IMAGE);
    f.copyWithin(d1 + b * IMAGE, s1, s1 + IMAGE);
    f[t + b] = f[(set.target >>> 2) + p];
    i[c + b] = i[(set.c0 >>> 2) + p];
    i[c + n + b] = i[(set.c1 >>> 2) + p];
  }
}

/** Pairs right in the last forward: logit > 0 predicts "first larger". */
function pairsRight(k: Kernels, model: PairModel, n: number): number {
  const f = k.f32, z = model.logits.ptr >>> 2, t = model.targets >>> 2;
  let right = 0;
  for (let b = 0; b < n; b++) if ((f[z + b] > 0 ? 1 : 0) === f[t + b]) right++;
  return right;
}

/** Digits whose largest logit is their class, in the last forward (2n digits). */
function digitsRight(k: Kernels, model: PairModel, n: number): number {
  const f = k.f32, i = k.i32, z = model.digitLogits!.ptr >>> 2, c = model.classes >>> 2;
  let right = 0;
  for (let d = 0; d < 2 * n; d++) {
    let best = 0;
    for (let j = 1; j < DIGIT_CLASSES; j++) if (f[z + d * DIGIT_CLASSES + j] > f[z + d * DIGIT_CLASSES + best]) best = j;
    if (best === i[c + d]) right++;
  }
  return right;
}

/** Trains one round of the study and returns its per-epoch records. */
export async function trainRound(opts: RoundOptions): Promise<RoundResult> {
  const { model: id, seed } = opts;
  const epochs = opts.epochs ?? DEFAULTS.epochs, pairs = opts.pairs ?? DEFAULTS.pairs, batch = opts.batch ?? DEFAULTS.batch;
  if (!MODEL_IDS.includes(id)) throw new Error(`unknown model ${String(id)} (1, 2, 3 or 4)`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  checkCount('epochs', epochs);
  checkCount('pairs', pairs);
  checkCount('batch', batch);
  const k = opts.kernels ?? (await sharedKernels(opts.build));
  const data = drawRound(await loadDigits(), seed, pairs);

  const mark = k.mark();
  try {
    const model = new PairModel(k, id, batch, seed);
    const train = place(k, data.train), test = place(k, data.test);
    const order = Int32Array.from({ length: pairs }, (_, i) => i);
    const rng = new Rng(seed, 3);
    const records: EpochRecord[] = [];
    let diverged: RoundResult['diverged'];
    const start = performance.now();

    for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
      opts.signal?.throwIfAborted();
      rng.shuffle(order);
      let lossSum = 0, right = 0;
      for (let from = 0, b = 0; from < pairs; from += batch, b++) {
        const n = Math.min(batch, pairs - from);
        loadBatch(k, model, train, order, from, n);
        const { loss } = model.trainStep(n);
        if (!Number.isFinite(loss)) {
          diverged = { epoch, batch: b, loss };
          break;
        }
        lossSum += loss * n;
        right += pairsRight(k, model, n);
      }
      if (diverged) break;
      let testRight = 0, digitRight = 0;
      for (let from = 0; from < test.n; from += batch) {
        const n = Math.min(batch, test.n - from);
        loadBatch(k, model, test, null, from, n);
        model.forward(n, false);
        testRight += pairsRight(k, model, n);
        if (model.digit) digitRight += digitsRight(k, model, n);
      }
      const record: EpochRecord = { epoch, trainLoss: lossSum / pairs, trainAccuracy: right / pairs, testAccuracy: testRight / test.n };
      if (model.digit) record.testDigitAccuracy = digitRight / (2 * test.n);
      records.push(record);
      opts.onEpoch?.(record);
    }
    const seconds = (performance.now() - start) / 1000;
    const last = records[records.length - 1];
    return {
      model: id, seed, epochs, pairs, build: k.build, records,
      finalTestAccuracy: diverged || !last ? NaN : last.testAccuracy,
      seconds, ...(diverged ? { diverged } : {}),
    };
  } finally {
    k.release(mark);
  }
}
