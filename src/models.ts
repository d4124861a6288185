// The four networks of the study (docs/STUDY.md), described with the model
// API (nn.ts) under PyTorch's names:
//
//   trunk T:  conv1 1→32 → [bn1] → relu → pool → conv2 32→64 → [bn2] → relu → pool → flatten 256
//   head H:   concat(T(d0), T(d1)) 512 → fc1 256 → [bn1] → relu → fc2 128 → [bn2] → relu → fc3 64 → [bn3] → relu → out 1
//   digit D:  256 → fc1 128 → [bn1] → relu → out 10
//
// A shared trunk and D see the 2n digits of a batch in one pass (stack): first
// the n digit-0 images, then the n digit-1 images. The model API fuses each
// conv with its batch norm and each ReLU with its pool into one kernel.
import { Kernels } from './kernels.js';
import { Act, ADAM } from './layers.js';
import { Data, LayerSpec, Model, SymbolicTensor, layers as nn, input, chain, stack, unstack, concat, model } from './nn.js';

import { IMAGE } from './data.js';

export { IMAGE };
export type ModelId = 1 | 2 | 3 | 4;
export const MODEL_IDS: readonly ModelId[] = [1, 2, 3, 4];
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

/** conv → [BN] → ReLU → 2×2 max pool, twice, then flatten: 1×14×14 → 256. */
function trunk(name: string, bn: boolean): LayerSpec[] {
  const block = (i: number, filters: number) => [
    nn.conv2d(filters, 3, { name: `${name}.conv${i}` }),
    ...(bn ? [nn.batchNorm({ name: `${name}.bn${i}` })] : []),
    nn.relu(),
    nn.maxPool2d(2),
  ];
  return [...block(1, 32), ...block(2, 64), nn.flatten()];
}

/** Dense → [BN] → ReLU blocks, then a last dense layer named `out`. */
function mlp(name: string, units: number[], bn: boolean): LayerSpec[] {
  return units.flatMap((u, i) => i === units.length - 1
    ? [nn.dense(u, { name: `${name}.out` })]
    : [nn.dense(u, { name: `${name}.fc${i + 1}` }), ...(bn ? [nn.batchNorm({ name: `${name}.bn${i + 1}` })] : []), nn.relu()]);
}

/** One of the study's networks: inputs digit 0 and digit 1 ([1, 14, 14] each); outputs the comparison logit and, for models 3 and 4, the digit logits (two parts: digit 0's, then digit 1's). */
export function studyNetwork(id: ModelId): { model: Model; trunkOut: SymbolicTensor[] } {
  if (!MODEL_IDS.includes(id)) throw new Error(`unknown model ${String(id)} (1, 2, 3 or 4)`);
  const bn = id === 4;
  const d0 = input([1, 14, 14], { name: 'digit0' }), d1 = input([1, 14, 14], { name: 'digit1' });
  // Layers in PyTorch's order (trunk, head, digit head): parameters are initialised in it.
  const trunks = id === 1 ? [trunk('trunk0', false), trunk('trunk1', false)] : [trunk('trunk', bn)];
  const head = mlp('head', [256, 128, 64, 1], bn);
  const digit = id >= 3 ? mlp('digit', [128, DIGIT_CLASSES], bn) : null;
  let pair: [SymbolicTensor, SymbolicTensor], trunkOut: SymbolicTensor[];
  let digits: SymbolicTensor | null = null;
  if (id === 1) {
    pair = [chain(trunks[0], d0), chain(trunks[1], d1)];
    trunkOut = pair;
  } else {
    const both = chain(trunks[0], stack([d0, d1]));
    trunkOut = [both];
    // The digit head is applied before the comparison head, so that in backward the
    // comparison head writes the trunk's gradient first and the digit head adds to it.
    if (digit) digits = chain(digit, both);
    pair = unstack(both) as [SymbolicTensor, SymbolicTensor];
  }
  const logit = chain(head, concat(pair));
  return { model: model({ inputs: [d0, d1], outputs: digits ? [logit, digits] : [logit], name: `model ${id}: ${MODEL_NAMES[id]}` }), trunkOut };
}

/**
 * One of the study's networks, compiled for batches of up to `batch` pairs
 * with the study's losses (BCE, plus the auxiliary CE for models 3 and 4) and
 * optimiser (Adam, lr 1e-3). Use `setBatch`, then `forwardBackward` and
 * `net.adamStep()`, or `trainStep` for all of it; the model API's `fit`,
 * `evaluate` and `predict` are on `model`.
 */
export class PairModel {
  readonly model: Model;
  /** The trunk outputs: [digit 0's, digit 1's] for model 1, the stacked [both] otherwise. */
  readonly trunkOut: SymbolicTensor[];
  readonly logits: Act;
  readonly digitLogits: Act | null;
  /** Targets [batch] float32 (1 if digit0 > digit1), classes [2·batch] int32 (digit-0 classes, then digit-1). */
  readonly targets: number;
  readonly classes: number;

  constructor(readonly k: Kernels, readonly id: ModelId, readonly batch: number, seed: number) {
    if (!MODEL_IDS.includes(id)) throw new Error(`unknown model ${String(id)} (1, 2, 3 or 4)`);
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
    const { model, trunkOut } = studyNetwork(id);
    this.model = model.build(k, {
      loss: id >= 3 ? ['bce', { loss: 'crossentropy', weight: AUX_WEIGHT }] : 'bce',
      optimizer: { type: 'adam', ...ADAM }, batchSize: batch, seed,
    });
    this.trunkOut = trunkOut;
    const out = (i: number) => ({ ptr: model.outputBuffers(i).ptr, grad: model.outputBuffers(i).grad, size: model.outputs[i].shape[0] });
    this.logits = out(0);
    this.digitLogits = id >= 3 ? out(1) : null;
    this.targets = model.outputBuffers(0).target;
    this.classes = id >= 3 ? model.outputBuffers(1).target : 0;
  }

  get net() {
    return this.model.net;
  }

  /** Training-mode forwards so far (batch norm's num_batches_tracked). */
  get trainForwards(): number {
    return this.model.trainForwards;
  }

  /** Byte offsets where the n digit-0 and the n digit-1 images of a batch go. */
  inputPtr(which: 0 | 1): number {
    return this.model.inputPtr(which);
  }

  /** The two trunk outputs of the last forward, [n, 256] each. */
  trunkOutputs(n: number): [Float32Array, Float32Array] {
    if (this.trunkOut.length === 2) return [this.model.read(this.trunkOut[0], n), this.model.read(this.trunkOut[1], n)];
    const both = this.model.read(this.trunkOut[0], n);
    return [both.subarray(0, n * 256), both.subarray(n * 256)];
  }

  /**
   * Copies a batch in: input [n, 2, 14, 14] (channel 0 = first digit), target [n]
   * (1 if digit0 > digit1), classes [n, 2] flat (optional for models 1 and 2). Returns n.
   */
  setBatch(input: ArrayLike<number>, target: ArrayLike<number>, classes?: ArrayLike<number>): number {
    const n = target.length;
    if (n < 1 || n > this.batch) throw new Error(`batch of ${n} pairs: must be 1..${this.batch}`);
    if (input.length !== n * 2 * IMAGE) throw new Error(`input has ${input.length} floats, expected ${n}×2×14×14 = ${n * 2 * IMAGE}`);
    if (!classes && this.digitLogits) throw new Error(`model ${this.id} needs the digit classes`);
    // the two channels are the model's two inputs
    const x0 = new Float32Array(n * IMAGE), x1 = new Float32Array(n * IMAGE);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < IMAGE; j++) {
        x0[b * IMAGE + j] = input[(2 * b) * IMAGE + j];
        x1[b * IMAGE + j] = input[(2 * b + 1) * IMAGE + j];
      }
    }
    // target 0 is the comparison target, target 1 the classes: the model checks both
    return this.model.setBatch([x0, x1], [target, ...(this.digitLogits ? [classes!] : [])] as Data[]);
  }

  forward(n: number, train: boolean): void {
    this.model.forward(n, train);
  }

  /** Loss of the last forward (targets and classes as set), writing the logits' gradients. */
  lossAndGrad(n: number): LossParts {
    return this.parts(this.model.lossAndGrad(n));
  }

  private parts(r: { loss: number; parts: number[][] }): LossParts {
    const [[bce], ce] = r.parts;
    return { loss: r.loss, bce, ce0: ce ? ce[0] : NaN, ce1: ce ? ce[1] : NaN };
  }

  /** Backward from the logits' gradients; parameter gradients accumulate. */
  backward(n: number): void {
    this.model.backward(n);
  }

  /** Zeroes the gradients, then forward (training mode), loss and backward on the batch as set. */
  forwardBackward(n: number): LossParts {
    return this.parts(this.model.forwardBackward(n));
  }

  /** forwardBackward, then one Adam step. */
  trainStep(n: number): LossParts {
    return this.parts(this.model.trainStep(n));
  }

  /** Saves every parameter and buffer as safetensors (PyTorch's names and layouts). */
  save(path: string): Promise<void> {
    return this.model.save(path, { model: String(this.id) });
  }

  /** Loads parameters and buffers saved by `save` (or by PyTorch's safetensors with the same names). */
  load(path: string): Promise<void> {
    return this.model.load(path);
  }
}
