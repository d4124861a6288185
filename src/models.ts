// The four networks of the study (docs/STUDY.md), built from the layers.
//
//   trunk T:  conv1 1→32 → [bn1] → relu+pool → conv2 32→64 → [bn2] → relu+pool → 256
//   head H:   concat(T(d0), T(d1)) 512 → fc1 256 → [bn1] → relu → fc2 128 → [bn2] → relu → fc3 64 → [bn3] → relu → out 1
//   digit D:  256 → fc1 128 → [bn1] → relu → out 10
//
// A shared trunk and D see the 2n digits of a batch in one pass: first the n
// digit-0 images, then the n digit-1 images.
import { Kernels } from './kernels.js';
import { loadNet, saveNet } from './safetensors.js';
import { Act, BatchNorm, Conv2d, Conv2dBatchNorm, Layer, Linear, Net, PairConcat, ReLU, ReluMaxPool, Sequential } from './layers.js';

export type ModelId = 1 | 2 | 3 | 4;
export const MODEL_IDS: readonly ModelId[] = [1, 2, 3, 4];
export const IMAGE = 14 * 14;
export const DIGIT_CLASSES = 10;
/** Weight of the auxiliary digit loss (STUDY.md: w = 1). */
export const AUX_WEIGHT = 1;

export const MODEL_NAMES: Record<ModelId, string> = {
  1: 'no sharing',
  2: 'weight sharing',
  3: 'auxiliary loss',
  4: 'batch norm',
};

export interface LossParts {
  /** Total loss: bce + w·(ce0 + ce1)/2 (just bce for models 1 and 2). */
  loss: number;
  bce: number;
  ce0: number;
  ce1: number;
}

function trunk(net: Net, name: string, x: Act, bn: boolean): Sequential {
  const layers: Layer[] = [];
  const add = <L extends Layer>(l: L): L => (layers.push(l), l);
  // conv → [BN] (fused into the convolution's kernel) → ReLU + 2×2 max pool (fused)
  const conv = (i: number, a: Act, cin: number, hw: number, cout: number) =>
    add(bn ? new Conv2dBatchNorm(net, `${name}.conv${i}`, `${name}.bn${i}`, a, cin, hw, hw, cout) : new Conv2d(net, `${name}.conv${i}`, a, cin, hw, hw, cout)).out;
  let a = conv(1, x, 1, 14, 32);
  a = add(new ReluMaxPool(net, a, 32, 12, 12)).out;
  a = conv(2, a, 32, 6, 64);
  add(new ReluMaxPool(net, a, 64, 4, 4));
  return new Sequential(layers);
}

/** Linear → [BN] → ReLU blocks, then a final Linear. */
function mlp(net: Net, name: string, x: Act, sizes: number[], outName: string, bn: boolean, accumulateDx = false): Sequential {
  const layers: Layer[] = [];
  let a = x;
  for (let i = 1; i < sizes.length; i++) {
    const last = i === sizes.length - 1;
    const lin = new Linear(net, last ? `${name}.${outName}` : `${name}.fc${i}`, a, sizes[i - 1], sizes[i], i === 1 && accumulateDx);
    layers.push(lin);
    a = lin.out;
    if (last) break;
    if (bn) layers.push(new BatchNorm(net, `${name}.bn${i}`, a, sizes[i]));
    a = layers[layers.length - 1].out;
    layers.push(new ReLU(net, a));
    a = layers[layers.length - 1].out;
  }
  return new Sequential(layers);
}

/**
 * One of the study's networks with its planned buffers. Batches hold up to
 * `batch` pairs. Use `setBatch` (or write at `inputPtr`), then `forward`,
 * `lossAndGrad` and `backward`, or `trainStep` for all of it.
 */
export class PairModel {
  readonly net: Net;
  readonly trunks: Sequential[];
  readonly head: Sequential;
  readonly digit: Sequential | null;
  readonly logits: Act;
  readonly digitLogits: Act | null;
  /** Targets [batch] float32 (1 if digit0 > digit1), classes [2·batch] int32 (digit-0 classes, then digit-1). */
  readonly targets: number;
  readonly classes: number;
  private readonly inputs: Act[];

  constructor(readonly k: Kernels, readonly id: ModelId, readonly batch: number, seed: number) {
    if (!MODEL_IDS.includes(id)) throw new Error(`unknown model ${String(id)} (1, 2, 3 or 4)`);
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
    const net = (this.net = new Net(k, 2 * batch));
    const bn = id === 4;
    if (id === 1) {
      this.inputs = [net.act(IMAGE, false), net.act(IMAGE, false)];
      this.trunks = [trunk(net, 'trunk0', this.inputs[0], false), trunk(net, 'trunk1', this.inputs[1], false)];
    } else {
      this.inputs = [net.act(IMAGE, false)];
      this.trunks = [trunk(net, 'trunk', this.inputs[0], bn)];
    }
    const concat = new PairConcat(net, this.trunks[0].out, id === 1 ? this.trunks[1].out : null);
    this.head = new Sequential([concat, ...mlp(net, 'head', concat.out, [512, 256, 128, 64, 1], 'out', bn).layers]);
    this.digit = id >= 3 ? mlp(net, 'digit', this.trunks[0].out, [256, 128, DIGIT_CLASSES], 'out', bn, true) : null;
    this.logits = this.head.out;
    this.digitLogits = this.digit ? this.digit.out : null;
    this.targets = net.scratch(batch);
    this.classes = net.scratch(2 * batch);
    net.finalize(seed);
  }

  /** Byte offsets where the n digit-0 and the n digit-1 images of a batch go. */
  inputPtr(n: number, which: 0 | 1): number {
    if (this.id === 1) return this.inputs[which].ptr;
    return this.inputs[0].ptr + which * n * IMAGE * 4;
  }

  /**
   * Copies a batch in: input [n, 2, 14, 14] (channel 0 = first digit), target [n]
   * (1 if digit0 > digit1), classes [n, 2] flat (optional for models 1 and 2). Returns n.
   */
  setBatch(input: ArrayLike<number>, target: ArrayLike<number>, classes?: ArrayLike<number>): number {
    const n = target.length;
    if (n < 1 || n > this.batch) throw new Error(`batch of ${n} pairs: must be 1..${this.batch}`);
    if (input.length !== n * 2 * IMAGE) throw new Error(`input has ${input.length} floats, expected ${n}×2×14×14 = ${n * 2 * IMAGE}`);
    if (classes && classes.length !== 2 * n) throw new Error(`classes has ${classes.length} entries, expected ${2 * n} (two per pair)`);
    if (!classes && this.digit) throw new Error(`model ${this.id} needs the digit classes`);
    for (let b = 0; b < n; b++) {
      if (!(target[b] >= 0 && target[b] <= 1)) throw new Error(`target[${b}] is ${target[b]}: targets are 1 (first digit larger) or 0`);
    }
    if (classes) {
      for (let j = 0; j < 2 * n; j++) {
        const c = classes[j];
        if (!Number.isInteger(c) || c < 0 || c >= DIGIT_CLASSES) throw new Error(`classes[${j}] is ${c}: digit classes are integers 0 … 9`);
      }
    }
    const f = this.k.f32, i32 = this.k.i32;
    for (let b = 0; b < n; b++) {
      for (const w of [0, 1] as const) {
        const src = (b * 2 + w) * IMAGE;
        const dst = (this.inputPtr(n, w) >>> 2) + b * IMAGE;
        for (let j = 0; j < IMAGE; j++) f[dst + j] = input[src + j];
      }
      f[(this.targets >>> 2) + b] = target[b];
      if (classes) {
        i32[(this.classes >>> 2) + b] = classes[2 * b];
        i32[(this.classes >>> 2) + n + b] = classes[2 * b + 1];
      }
    }
    return n;
  }

  /** Training-mode forwards so far (batch norm's num_batches_tracked). */
  trainForwards = 0;

  /** Throws unless 1 ≤ n ≤ batch: the buffers are planned for `batch` pairs, and a larger n would overwrite what follows them. */
  private checkCount(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.batch) throw new RangeError(`model ${this.id}: a batch of ${n} pairs; this model holds 1 … ${this.batch}`);
  }

  forward(n: number, train: boolean): void {
    this.checkCount(n);
    if (train) this.trainForwards++;
    if (this.id === 1) {
      this.trunks[0].forward(n, train);
      this.trunks[1].forward(n, train);
    } else {
      this.trunks[0].forward(2 * n, train);
    }
    this.head.forward(n, train);
    this.digit?.forward(2 * n, train);
  }

  /** Loss of the last forward (targets and classes as set), writing the logits' gradients. */
  lossAndGrad(n: number): LossParts {
    this.checkCount(n);
    const k = this.k.k;
    const bce = k.bce_with_logits(this.logits.grad, this.logits.ptr, this.targets, n, 1);
    if (!this.digitLogits) return { loss: bce, bce, ce0: NaN, ce1: NaN };
    const d = this.digitLogits, rowBytes = DIGIT_CLASSES * 4;
    const ce0 = k.softmax_cross_entropy(d.grad, d.ptr, this.classes, n, DIGIT_CLASSES, AUX_WEIGHT / 2);
    const ce1 = k.softmax_cross_entropy(d.grad + n * rowBytes, d.ptr + n * rowBytes, this.classes + n * 4, n, DIGIT_CLASSES, AUX_WEIGHT / 2);
    return { loss: bce + (AUX_WEIGHT * (ce0 + ce1)) / 2, bce, ce0, ce1 };
  }

  /** Backward from the logits' gradients; parameter gradients accumulate. */
  backward(n: number): void {
    this.checkCount(n);
    this.head.backward(n); // ends in PairConcat: overwrites the trunk output's gradient
    this.digit?.backward(2 * n); // adds into it
    if (this.id === 1) {
      this.trunks[0].backward(n);
      this.trunks[1].backward(n);
    } else {
      this.trunks[0].backward(2 * n);
    }
  }

  /** Zeroes the gradients, then forward (training mode), loss and backward on the batch as set. */
  forwardBackward(n: number): LossParts {
    this.net.zeroGrads();
    this.forward(n, true);
    const parts = this.lossAndGrad(n);
    this.backward(n);
    return parts;
  }

  /** Saves every parameter and buffer as safetensors (PyTorch's names and layouts). */
  save(path: string): Promise<void> {
    return saveNet(this.net, path, this.trainForwards, { model: String(this.id), format: 'pt' });
  }

  /** Loads parameters and buffers saved by `save` (or by PyTorch's safetensors with the same names). */
  async load(path: string): Promise<void> {
    await loadNet(this.net, path);
  }

  /** forwardBackward, then one Adam step. */
  trainStep(n: number): LossParts {
    const parts = this.forwardBackward(n);
    this.net.adamStep();
    return parts;
  }
}
