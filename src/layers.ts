// Layers: each a forward/backward pair on planned buffers, llm.c style.
//
// A layer reads its input activation, writes its output activation, and in
// backward reads the output's gradient and writes the input's gradient (unless
// the input needs none: grad = 0). Weight gradients accumulate; the Net zeroes
// them once per step. `n` is the number of samples in the current batch, at
// most the batch size the Net was planned for.
import { Kernels, ConvAlgorithm } from './kernels.js';
import { Rng } from './prng.js';

/** An activation: values and gradient buffers (byte offsets), `size` floats per sample. */
export interface Act {
  readonly ptr: number;
  /** 0 when no gradient flows back here (the network's input). */
  readonly grad: number;
  readonly size: number;
}

export interface Layer {
  readonly out: Act;
  forward(n: number, train: boolean): void;
  backward(n: number): void;
}

/** A named parameter (PyTorch name and layout); its buffers are placed when the Net is finalised. */
export class Param {
  ptr = 0;
  grad = 0;
  offset = 0;
  readonly size: number;
  constructor(readonly name: string, readonly shape: number[], readonly init: { bound: number } | { fill: number }) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }
}

/** A named non-trainable buffer (batch norm's running statistics). */
export interface NamedBuffer {
  readonly name: string;
  readonly shape: number[];
  readonly ptr: number;
  readonly size: number;
  readonly initial: number;
}

export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Zero padding of a convolution: none ('valid') or enough to keep ⌈size/stride⌉ outputs ('same'). */
export type Padding = 'valid' | 'same';

/**
 * Output size and leading zeros along one side, as TensorFlow and PyTorch
 * define them: 'valid' ⌊(size − kernel)/stride⌋ + 1; 'same' ⌈size/stride⌉ with
 * the padding split evenly and the odd zero at the end. `out` < 1 means the
 * kernel does not fit.
 */
export function convGeometry(size: number, kernel: number, stride: number, padding: Padding): { out: number; before: number } {
  if (padding === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  return { out, before: Math.floor(Math.max((out - 1) * stride + kernel - size, 0) / 2) };
}

/**
 * Plans a network's memory: activations as layers are built, then all
 * parameters, gradients and Adam moments as four contiguous blocks, so that
 * zeroing the gradients and the Adam update are one kernel call each.
 */
export class Net {
  readonly params: Param[] = [];
  readonly buffers: NamedBuffer[] = [];
  /** Optimiser steps taken (PyTorch's `step`; also batch norm's num_batches_tracked). */
  steps = 0;
  /**
   * While true, `param` and `buffer` hand back an existing tensor of the same
   * name and shape instead of refusing it: a layer applied a second time
   * shares its weights (its gradients add up) and its running statistics.
   */
  sharing = false;
  private block = { params: 0, grads: 0, m: 0, v: 0, count: 0 };
  private finalized = false;

  constructor(readonly k: Kernels, readonly maxBatch: number) {}

  /** An activation of `size` floats per sample, for a batch of up to maxBatch samples. */
  act(size: number, withGrad = true): Act {
    const n = size * this.maxBatch;
    return { ptr: this.k.alloc(n), grad: withGrad ? this.k.alloc(n) : 0, size };
  }

  scratch(floats: number): number {
    return this.k.alloc(floats);
  }

  param(name: string, shape: number[], init: Param['init']): Param {
    if (this.finalized) throw new Error('Net is finalised: declare parameters before finalize()');
    const old = this.params.find((p) => p.name === name);
    if (old && this.sharing && old.shape.join() === shape.join()) return old;
    if (old) throw new Error(`duplicate parameter name ${name}`);
    const p = new Param(name, shape, init);
    this.params.push(p);
    return p;
  }

  buffer(name: string, shape: number[], initial: number): NamedBuffer {
    const old = this.buffers.find((b) => b.name === name);
    if (old && this.sharing && old.shape.join() === shape.join()) return old;
    if (old) throw new Error(`duplicate buffer name ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const b = { name, shape, size, initial, ptr: this.k.alloc(size) };
    this.k.f32.fill(initial, b.ptr >>> 2, (b.ptr >>> 2) + size);
    this.buffers.push(b);
    return b;
  }

  /** Places the parameter blocks and initialises them from `seed` (PyTorch's default init). */
  finalize(seed: number): this {
    const count = this.params.reduce((s, p) => s + p.size, 0);
    const b = { params: this.k.alloc(count), grads: this.k.alloc(count), m: this.k.alloc(count), v: this.k.alloc(count), count };
    this.block = b;
    let off = 0;
    const rng = new Rng(seed, 2);
    const f = this.k.f32;
    for (const p of this.params) {
      p.offset = off;
      p.ptr = b.params + off * 4;
      p.grad = b.grads + off * 4;
      const base = p.ptr >>> 2;
      for (let i = 0; i < p.size; i++) f[base + i] = 'bound' in p.init ? rng.uniform(-p.init.bound, p.init.bound) : p.init.fill;
      off += p.size;
    }
    this.finalized = true;
    return this;
  }

  /** A parameter or buffer by its PyTorch name. */
  find(name: string): Param | NamedBuffer {
    const t = this.params.find((p) => p.name === name) ?? this.buffers.find((b) => b.name === name);
    if (!t) throw new Error(`no parameter or buffer named "${name}" (have: ${this.names().join(', ')})`);
    return t;
  }

  /** Every parameter name, then every buffer name, in declaration order. */
  names(): string[] {
    return [...this.params.map((p) => p.name), ...this.buffers.map((b) => b.name)];
  }

  /** A copy of a parameter's or buffer's values (PyTorch layout). */
  read(name: string): Float32Array {
    const t = this.find(name);
    return this.k.read(t.ptr, t.size);
  }

  /** A copy of a parameter's gradient from the last backward. */
  readGrad(name: string): Float32Array {
    const t = this.find(name);
    if (!(t instanceof Param)) throw new Error(`"${name}" is a buffer: it has no gradient`);
    return this.k.read(t.grad, t.size);
  }

  /** Overwrites a parameter or buffer (values in PyTorch layout). */
  write(name: string, values: ArrayLike<number>): void {
    const t = this.find(name);
    if (values.length !== t.size) throw new Error(`"${name}" has ${t.size} values [${t.shape.join(', ')}], got ${values.length}`);
    this.k.write(t.ptr, values);
  }

  get parameterCount(): number {
    return this.block.count;
  }

  zeroGrads(): void {
    const s = this.block.grads >>> 2;
    this.k.f32.fill(0, s, s + this.block.count);
  }

  /** One Adam step with the study's settings (lr 1e-3, no weight decay). */
  adamStep(): void {
    this.step(ADAM_DEFAULTS);
  }

  /** One optimiser step over every parameter (PyTorch's formulas; Adam's bias correction in float64). */
  step(o: Optimizer): void {
    const t = ++this.steps;
    const b = this.block;
    if (o.type === 'sgd') {
      this.k.sgdStep(b.params, b.grads, b.m, b.count, o.lr, o.momentum ?? 0, o.weightDecay ?? 0, o.nesterov ?? false);
      return;
    }
    const { lr, beta1 = ADAM.beta1, beta2 = ADAM.beta2, eps = ADAM.eps } = o;
    this.k.adamStep(b.params, b.grads, b.m, b.v, b.count, lr, beta1, beta2, eps, 1 - beta1 ** t, 1 - beta2 ** t, o.weightDecay ?? 0, o.type === 'adamw');
  }
}

/** An optimiser and its settings (PyTorch's names and defaults, but lr has none). */
export type Optimizer =
  | { type: 'adam' | 'adamw'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }
  | { type: 'sgd'; lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number };

const ADAM_DEFAULTS: Optimizer = { type: 'adam', ...ADAM };

/** Throws a one-line error unless `o` is an optimiser simdnet knows, with sensible settings. */
export function checkOptimizer(o: Optimizer): void {
  const bad = (why: string) => new Error(`optimizer: ${why}`);
  if (!o || !['adam', 'adamw', 'sgd'].includes(o.type)) throw bad(`type must be 'adam', 'adamw' or 'sgd', got ${JSON.stringify(o?.type)}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw bad(`lr must be a positive number, got ${o.lr}`);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw bad(`weightDecay must be ≥ 0, got ${o.weightDecay}`);
  if (o.type === 'sgd' && o.momentum !== undefined && !(o.momentum >= 0 && o.momentum < 1)) throw bad(`momentum must be in [0, 1), got ${o.momentum}`);
  if (o.type !== 'sgd') {
    for (const k of ['beta1', 'beta2'] as const) if (o[k] !== undefined && !(o[k]! >= 0 && o[k]! < 1)) throw bad(`${k} must be in [0, 1), got ${o[k]}`);
  }
}

/** How a convolution is set up beyond its channels; everything optional. */
export interface ConvOptions {
  /** Kernel height and width (default 3×3). */
  kernel?: [number, number];
  stride?: number;
  padding?: Padding;
  /** With a bias (default true). */
  bias?: boolean;
  /** Force an algorithm (CONV_ALGORITHMS); default: the kernels' choice. */
  algorithm?: ConvAlgorithm;
  /** ReLU and 2×2 max pooling follow (ConvReluMaxPool): the kernels choose knowing it, and where their choice pools in registers the three run fused. */
  pooled?: boolean;
}

export type { ConvAlgorithm };

/**
 * 2-D convolution. x: [n, cin, h, w] → out: [n, cout, oh, ow]. The study's
 * shape (3×3, stride 1, valid, with bias) runs conv.ts's tuned 3×3 kernels
 * (which pick Winograd or im2col themselves), unless ReLU and 2×2 max pooling
 * follow and the kernels' choice (conv2d_algorithm, told so) runs the three
 * fused; every other shape, or a forced algorithm, runs conv2d.ts's general
 * kernels.
 */
export class Conv2d implements Layer {
  readonly out: Act;
  readonly weight: Param;
  readonly bias: Param | null;
  readonly outH: number;
  readonly outW: number;
  /** The kernels' workspace (im2col columns or Winograd transforms) and channel-major product, kept for backward; Conv2dBatchNorm shares them. */
  readonly col: number;
  readonly yc: number;
  /** The general kernel's algorithm id, or -1 on the tuned 3×3 path. */
  readonly algo: number;
  /** Whether forwardReluMaxPool applies (conv2d_pools_in_registers): the direct algorithm with even output sides, or Winograd. */
  readonly poolsInRegisters: boolean;
  /** Whether backwardReluMaxPool applies: by Winograd, or direct where no gradient flows to the input (a first layer). */
  readonly poolsBackward: boolean;
  private readonly g: { kh: number; kw: number; stride: number; padT: number; padL: number };

  constructor(private net: Net, name: string, private x: Act, private cin: number, private h: number, private w: number, readonly cout: number, opts: ConvOptions = {}) {
    const [kh, kw] = opts.kernel ?? [3, 3], stride = opts.stride ?? 1, padding = opts.padding ?? 'valid';
    if (x.size !== cin * h * w) throw new Error(`${name}: input has ${x.size} floats per sample, expected ${cin}×${h}×${w}`);
    const gh = convGeometry(h, kh, stride, padding), gw = convGeometry(w, kw, stride, padding);
    if (gh.out < 1 || gw.out < 1) throw new Error(`${name}: a ${kh}×${kw} kernel does not fit a ${h}×${w} input`);
    this.outH = gh.out;
    this.outW = gw.out;
    this.g = { kh, kw, stride, padT: gh.before, padL: gw.before };
    const bound = 1 / Math.sqrt(cin * kh * kw);
    this.weight = net.param(`${name}.weight`, [cout, cin, kh, kw], { bound });
    this.bias = opts.bias === false ? null : net.param(`${name}.bias`, [cout], { bound });
    const P = this.outH * this.outW, k = net.k;
    const chosen = k.k.conv2d_algorithm(cin, cout, kh, kw, stride, this.outH, this.outW, !!opts.pooled);
    const pooledChoice = opts.algorithm === undefined && !!opts.pooled && k.k.conv2d_pools_in_registers(chosen, kh, kw, stride, this.outH, this.outW);
    const tuned = kh === 3 && kw === 3 && stride === 1 && padding === 'valid' && this.bias !== null && opts.algorithm === undefined && !pooledChoice;
    if (tuned) {
      this.algo = -1;
    } else {
      this.algo = opts.algorithm === undefined ? chosen : k.convAlgorithms[opts.algorithm];
      if (!k.k.conv2d_supports(this.algo, kh, kw, stride, this.outH, this.outW)) {
        throw new Error(`${name}: the ${opts.algorithm} algorithm does not apply to a ${kh}×${kw} stride-${stride} convolution with a ${this.outH}×${this.outW} output (Winograd: 3×3 or 5×5, stride 1, output sides multiples of 4 or 2; direct: stride 1)`);
      }
    }
    this.poolsInRegisters = this.algo >= 0 && k.k.conv2d_pools_in_registers(this.algo, kh, kw, stride, this.outH, this.outW);
    this.poolsBackward = this.poolsInRegisters && (this.algo === k.convAlgorithms.winograd || !x.grad);
    this.out = net.act(cout * P);
    this.col = net.scratch(tuned ? k.k.conv3x3_workspace(net.maxBatch, cin, h, w, cout)
      : k.k.conv2d_workspace(this.algo, net.maxBatch, cin, h, w, cout, kh, kw, this.g.padT, this.g.padL, this.outH, this.outW));
    this.yc = net.scratch(cout * P * net.maxBatch);
  }

  forward(n: number, train: boolean): void {
    const b = this.bias ? this.bias.ptr : 0;
    if (this.algo < 0) {
      this.net.k.parts('conv3x3_forward', this.out.ptr, this.col, this.yc, this.x.ptr, this.weight.ptr, b, n, this.cin, this.h, this.w, this.cout);
      return;
    }
    const { kh, kw, stride, padT, padL } = this.g;
    this.net.k.parts('conv2d_forward', this.algo, this.out.ptr, this.col, this.yc, this.x.ptr, this.weight.ptr, b, n, this.cin, this.h, this.w, this.cout, kh, kw, stride, padT, padL, this.outH, this.outW, train ? 1 : 0); // nothing kept in evaluation
  }

  /**
   * The forward pass followed by ReLU and 2×2 max pooling into pool's output and
   * argmax, without writing this layer's output (pooled in registers): the same
   * bits as forward then pool.forward, and the same workspace for backward.
   */
  forwardReluMaxPool(n: number, train: boolean, pool: ReluMaxPool): void {
    if (!this.poolsInRegisters) throw new Error('forwardReluMaxPool needs the direct algorithm with even output sides, or Winograd');
    const { kh, kw, padT, padL } = this.g;
    this.net.k.parts('conv2d_relu_maxpool_forward', this.algo, pool.out.ptr, pool.idx, this.col, this.x.ptr, this.weight.ptr, this.bias ? this.bias.ptr : 0,
      n, this.cin, this.h, this.w, this.cout, kh, kw, padT, padL, this.outH, this.outW, train ? 1 : 0);
  }

  /**
   * The backward pass behind forwardReluMaxPool, from pool's output gradient
   * alone, where pool.backward would write the full output gradient (three
   * quarters zeros) for backward to read.
   */
  backwardReluMaxPool(n: number, pool: ReluMaxPool): void {
    if (!this.poolsBackward) throw new Error('backwardReluMaxPool needs Winograd, or the direct algorithm without an input gradient');
    const { kh, kw, padT, padL } = this.g;
    this.net.k.parts('conv2d_relu_maxpool_backward', this.algo, this.x.grad, this.weight.grad, this.bias ? this.bias.grad : 0, pool.out.grad, pool.out.ptr, pool.idx, this.col,
      n, this.cin, this.h, this.w, this.cout, kh, kw, padT, padL, this.outH, this.outW);
  }

  backward(n: number): void {
    const db = this.bias ? this.bias.grad : 0;
    if (this.algo < 0) {
      this.net.k.parts('conv3x3_backward', this.x.grad, this.weight.grad, db, this.yc, this.out.grad, this.weight.ptr, this.col, n, this.cin, this.h, this.w, this.cout);
      return;
    }
    const { kh, kw, stride, padT, padL } = this.g;
    this.net.k.parts('conv2d_backward', this.algo, this.x.grad, this.weight.grad, db, this.yc, this.out.grad, this.weight.ptr, this.col, n, this.cin, this.h, this.w, this.cout, kh, kw, stride, padT, padL, this.outH, this.outW);
  }
}

/** Fully connected: x: [n, fin] → out: [n, fout], y = x·Wᵀ + b. `accumulateDx` adds into x.grad (a fan-out point). */
export class Linear implements Layer {
  readonly out: Act;
  readonly weight: Param;
  readonly bias: Param;

  constructor(private net: Net, name: string, private x: Act, private fin: number, private fout: number, private accumulateDx = false) {
    if (x.size !== fin) throw new Error(`${name}: input has ${x.size} features, expected ${fin}`);
    const bound = 1 / Math.sqrt(fin);
    this.weight = net.param(`${name}.weight`, [fout, fin], { bound });
    this.bias = net.param(`${name}.bias`, [fout], { bound });
    this.out = net.act(fout);
  }

  forward(n: number): void {
    const k = this.net.k.k;
    this.net.k.gemm(this.out.ptr, this.x.ptr, this.weight.ptr, n, this.fout, this.fin, this.fin, this.fin, this.fout, this.net.k.GEMM_TRANS_B);
    k.bias_add(this.out.ptr, this.bias.ptr, n, this.fout);
  }

  backward(n: number): void {
    const { k, GEMM_TRANS_A, GEMM_ACCUMULATE } = this.net.k;
    const { fin, fout } = this;
    k.bias_backward(this.bias.grad, this.out.grad, n, fout);
    this.net.k.gemm(this.weight.grad, this.out.grad, this.x.ptr, fout, fin, n, fout, fin, fin, GEMM_TRANS_A | GEMM_ACCUMULATE);
    if (this.x.grad) this.net.k.gemm(this.x.grad, this.out.grad, this.weight.ptr, n, fin, fout, fout, fin, fin, this.accumulateDx ? GEMM_ACCUMULATE : 0);
  }
}

/** Batch norm's parameters, running statistics and saved batch statistics (PyTorch's defaults). */
abstract class BatchNormState {
  static readonly momentum = 0.1;
  static readonly eps = 1e-5;
  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: NamedBuffer;
  readonly runningVar: NamedBuffer;
  /** Batch mean and 1/std of the last training forward, for backward. */
  protected readonly mean: number;
  protected readonly invstd: number;

  constructor(protected net: Net, name: string, channels: number) {
    this.weight = net.param(`${name}.weight`, [channels], { fill: 1 });
    this.bias = net.param(`${name}.bias`, [channels], { fill: 0 });
    this.runningMean = net.buffer(`${name}.running_mean`, [channels], 0);
    this.runningVar = net.buffer(`${name}.running_var`, [channels], 1);
    this.mean = net.scratch(channels);
    this.invstd = net.scratch(channels);
  }
}

/**
 * Batch normalisation with PyTorch's defaults (momentum 0.1, eps 1e-5):
 * per channel over [n, channels, spatial] when spatial > 1 (BatchNorm2d),
 * per feature over [n, channels] when spatial = 1 (BatchNorm1d).
 */
export class BatchNorm extends BatchNormState implements Layer {
  readonly out: Act;
  private readonly sums: number;

  constructor(net: Net, name: string, private x: Act, private channels: number, private spatial = 1) {
    if (x.size !== channels * spatial) throw new Error(`${name}: input has ${x.size} floats per sample, expected ${channels}×${spatial}`);
    super(net, name, channels);
    this.sums = net.scratch(2 * channels);
    this.out = net.act(channels * spatial);
  }

  forward(n: number, train: boolean): void {
    const k = this.net.k.k;
    const { momentum, eps } = BatchNorm;
    const [y, x, g, b, rm, rv] = [this.out.ptr, this.x.ptr, this.weight.ptr, this.bias.ptr, this.runningMean.ptr, this.runningVar.ptr];
    if (this.spatial > 1) {
      if (train) this.net.k.parts('batchnorm_channels_forward_train', y, this.mean, this.invstd, rm, rv, x, g, b, n, this.channels, this.spatial, momentum, eps);
      else this.net.k.parts('batchnorm_channels_forward_eval', y, x, g, b, rm, rv, n, this.channels, this.spatial, eps);
    } else {
      if (train) k.batchnorm_features_forward_train(y, this.mean, this.invstd, rm, rv, x, g, b, n, this.channels, momentum, eps);
      else k.batchnorm_features_forward_eval(y, this.mean, this.invstd, x, g, b, rm, rv, n, this.channels, eps);
    }
  }

  backward(n: number): void {
    const k = this.net.k.k;
    const [dx, dg, db, dy, x, g] = [this.x.grad, this.weight.grad, this.bias.grad, this.out.grad, this.x.ptr, this.weight.ptr];
    if (this.spatial > 1) this.net.k.parts('batchnorm_channels_backward', dx, dg, db, dy, x, g, this.mean, this.invstd, n, this.channels, this.spatial);
    else k.batchnorm_features_backward(dx, dg, db, this.sums, dy, x, g, this.mean, this.invstd, n, this.channels);
  }
}

/**
 * A 3×3 convolution followed by per-channel batch norm, fused: the same
 * parameters and results as Conv2d then BatchNorm(…, spatial > 1), with the
 * normalisation done on the convolution's contiguous channel-major product.
 * x: [n, cin, h, w] → out: [n, cout, h-2, w-2].
 */
export class Conv2dBatchNorm extends BatchNormState implements Layer {
  readonly out: Act;
  readonly conv: Conv2d;
  private readonly dyc: number;

  constructor(net: Net, convName: string, bnName: string, private x: Act, private cin: number, private h: number, private w: number, private cout: number) {
    const conv = new Conv2d(net, convName, x, cin, h, w, cout); // conv parameters first, as PyTorch lists them (3×3 valid: the tuned path)
    super(net, bnName, cout);
    this.conv = conv;
    this.dyc = net.scratch(conv.out.size * net.maxBatch);
    this.out = conv.out; // the fused kernel writes the normalised output there
  }

  forward(n: number, train: boolean): void {
    const k = this.net.k, c = this.conv;
    const { momentum, eps } = BatchNorm;
    if (train) {
      k.parts('conv3x3_batchnorm_forward_train', this.out.ptr, c.col, c.yc, this.mean, this.invstd, this.runningMean.ptr, this.runningVar.ptr,
        this.x.ptr, c.weight.ptr, c.bias!.ptr, this.weight.ptr, this.bias.ptr, n, this.cin, this.h, this.w, this.cout, momentum, eps);
    } else {
      k.parts('conv3x3_batchnorm_forward_eval', this.out.ptr, c.col, c.yc, this.x.ptr, c.weight.ptr, c.bias!.ptr, this.weight.ptr, this.bias.ptr,
        this.runningMean.ptr, this.runningVar.ptr, n, this.cin, this.h, this.w, this.cout, eps);
    }
  }

  backward(n: number): void {
    const k = this.net.k, c = this.conv;
    k.parts('conv3x3_batchnorm_backward', this.x.grad, c.weight.grad, c.bias!.grad, this.weight.grad, this.bias.grad, this.dyc,
      this.out.grad, c.weight.ptr, this.weight.ptr, c.col, c.yc, this.mean, this.invstd, n, this.cin, this.h, this.w, this.cout);
  }
}

/** ReLU. */
export class ReLU implements Layer {
  readonly out: Act;
  constructor(private net: Net, private x: Act) {
    this.out = net.act(x.size);
  }
  forward(n: number): void {
    this.net.k.k.relu_forward(this.out.ptr, this.x.ptr, n * this.x.size);
  }
  backward(n: number): void {
    this.net.k.k.relu_backward(this.x.grad, this.out.grad, this.out.ptr, n * this.x.size);
  }
}

/** ReLU then 2×2 max pooling, fused. x: [n, c, h, w] → out: [n, c, h/2, w/2]. */
export class ReluMaxPool implements Layer {
  readonly out: Act;
  /** The argmax of each window (i32 0…3), for backward. */
  readonly idx: number;
  constructor(private net: Net, private x: Act, private c: number, private h: number, private w: number) {
    if (h % 2 || w % 2) throw new Error(`2×2 max pooling needs even sizes, got ${h}×${w}`);
    this.out = net.act((c * h * w) / 4);
    this.idx = net.scratch(this.out.size * net.maxBatch);
  }
  forward(n: number): void {
    this.net.k.reluMaxpool2x2Forward(this.out.ptr, this.idx, this.x.ptr, n * this.c, this.h, this.w);
  }
  backward(n: number): void {
    this.net.k.reluMaxpool2x2Backward(this.x.grad, this.out.grad, this.out.ptr, this.idx, n * this.c, this.h, this.w);
  }
}

/**
 * A convolution (direct, or Winograd), ReLU and 2×2 max pooling: one
 * forward kernel that pools the convolution's output in registers
 * (Conv2d.forwardReluMaxPool; LeNet's conv1 + pool: 605 → 535 µs with the
 * caches flushed); backward from the pooled gradient alone where it can
 * (Conv2d.backwardReluMaxPool; LeNet's conv1, a first layer: 665 → 330 µs),
 * else ReluMaxPool's then Conv2d's.
 */
export class ConvReluMaxPool implements Layer {
  readonly out: Act;
  private readonly pool: ReluMaxPool;
  constructor(net: Net, private conv: Conv2d) {
    this.pool = new ReluMaxPool(net, conv.out, conv.cout, conv.outH, conv.outW);
    this.out = this.pool.out;
  }
  forward(n: number, train: boolean): void {
    this.conv.forwardReluMaxPool(n, train, this.pool);
  }
  backward(n: number): void {
    if (this.conv.poolsBackward) {
      this.conv.backwardReluMaxPool(n, this.pool);
    } else {
      this.pool.backward(n);
      this.conv.backward(n);
    }
  }
}

/**
 * Joins the two digits' features of each pair: out row b = [a[b], b[b]].
 * With `b` null, `a` holds 2n rows (first the n digit-0 rows, then the digit-1
 * rows: a shared trunk's output) and its second half serves as `b`.
 * Backward overwrites the sources' gradients.
 */
export class PairConcat implements Layer {
  readonly out: Act;
  constructor(private net: Net, private a: Act, private b: Act | null) {
    this.out = net.act(2 * a.size, a.grad !== 0 || (b !== null && b.grad !== 0));
  }
  forward(n: number): void {
    const { a } = this, b1 = this.b ? this.b.ptr : a.ptr + n * a.size * 4;
    this.net.k.k.pair_concat_forward(this.out.ptr, a.ptr, b1, n, a.size);
  }
  backward(n: number): void {
    const { a } = this, g1 = this.b ? this.b.grad : a.grad + n * a.size * 4;
    this.net.k.k.pair_concat_backward(a.grad, g1, this.out.grad, n, a.size);
  }
}


/** Max or average pooling over k×k windows with stride s (no padding). x: [n, c, h, w] → out: [n, c, oh, ow]. */
export class Pool2d implements Layer {
  readonly out: Act;
  readonly outH: number;
  readonly outW: number;
  private readonly idx: number;
  constructor(private net: Net, private x: Act, private c: number, private h: number, private w: number, private kind: 'max' | 'avg', private size: number, private stride = size) {
    this.outH = Math.floor((h - size) / stride) + 1;
    this.outW = Math.floor((w - size) / stride) + 1;
    if (this.outH < 1 || this.outW < 1) throw new Error(`a ${size}×${size} pooling window does not fit a ${h}×${w} input`);
    this.out = net.act(c * this.outH * this.outW);
    this.idx = kind === 'max' ? net.scratch(this.out.size * net.maxBatch) : 0;
  }
  forward(n: number): void {
    const R = n * this.c;
    const { h, w, size, stride, outH, outW } = this, i = h * w, o = outH * outW, k = this.net.k;
    // split by planes: each is pooled on its own
    if (this.kind === 'max') k.byRows('maxpool2d_forward', R, R * i, 1, (r, n) => [this.out.ptr + 4 * r * o, this.idx + 4 * r * o, this.x.ptr + 4 * r * i, n, h, w, size, size, stride, outH, outW]);
    else k.byRows('avgpool2d_forward', R, R * i, 1, (r, n) => [this.out.ptr + 4 * r * o, this.x.ptr + 4 * r * i, n, h, w, size, size, stride, outH, outW]);
  }
  backward(n: number): void {
    const R = n * this.c;
    const { h, w, size, stride, outH, outW } = this, i = h * w, o = outH * outW, k = this.net.k;
    if (this.kind === 'max') k.byRows('maxpool2d_backward', R, R * i, 1, (r, n) => [this.x.grad + 4 * r * i, this.out.grad + 4 * r * o, this.idx + 4 * r * o, n, h, w, outH, outW]);
    else k.byRows('avgpool2d_backward', R, R * i, 1, (r, n) => [this.x.grad + 4 * r * i, this.out.grad + 4 * r * o, n, h, w, size, size, stride, outH, outW]);
  }
}

/** Global average pooling. x: [n, c, h, w] → out: [n, c]. */
export class GlobalAvgPool2d implements Layer {
  readonly out: Act;
  constructor(private net: Net, private x: Act, private c: number, private p: number) {
    this.out = net.act(c);
  }
  forward(n: number): void {
    const R = n * this.c, p = this.p;
    this.net.k.byRows('global_avgpool_forward', R, R * p, 1, (r, m) => [this.out.ptr + 4 * r, this.x.ptr + 4 * r * p, m, p]);
  }
  backward(n: number): void {
    const R = n * this.c, p = this.p;
    this.net.k.byRows('global_avgpool_backward', R, R * p, 1, (r, m) => [this.x.grad + 4 * r * p, this.out.grad + 4 * r, m, p]);
  }
}

/** Elementwise activations besides ReLU: leaky ReLU (with `slope`), sigmoid, tanh. */
export class Activation implements Layer {
  readonly out: Act;
  constructor(private net: Net, private x: Act, private kind: 'leakyRelu' | 'sigmoid' | 'tanh', private slope = 0.01) {
    this.out = net.act(x.size);
  }
  forward(n: number): void {
    const { k } = this.net.k, len = n * this.x.size, [y, x] = [this.out.ptr, this.x.ptr];
    if (this.kind === 'leakyRelu') k.leaky_relu_forward(y, x, len, this.slope);
    else if (this.kind === 'sigmoid') k.sigmoid_forward(y, x, len);
    else k.tanh_forward(y, x, len);
  }
  backward(n: number): void {
    const { k } = this.net.k, len = n * this.x.size, [dx, dy] = [this.x.grad, this.out.grad];
    if (this.kind === 'leakyRelu') k.leaky_relu_backward(dx, dy, this.x.ptr, len, this.slope);
    else if (this.kind === 'sigmoid') k.sigmoid_backward(dx, dy, this.out.ptr, len);
    else k.tanh_backward(dx, dy, this.out.ptr, len);
  }
}

/**
 * Inverted dropout: in training each value is zeroed with probability `rate`
 * and the rest scaled by 1/(1 − rate); in evaluation a copy. The mask of step
 * t comes from a hash of (seed, t, position): the same in every runtime.
 */
export class Dropout implements Layer {
  readonly out: Act;
  private readonly mask: number;
  private calls = 0;
  /** Whether the last forward applied a mask (training with rate > 0); else backward passes the gradient through. */
  private masked = false;
  constructor(private net: Net, private x: Act, private rate: number, private seed: number) {
    if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
    this.out = net.act(x.size);
    this.mask = net.scratch(x.size * net.maxBatch);
  }
  forward(n: number, train: boolean): void {
    const { k } = this.net.k, len = n * this.x.size;
    this.masked = train && this.rate > 0;
    if (this.masked) {
      k.dropout_forward(this.out.ptr, this.mask, this.x.ptr, len, this.rate, (Math.imul(this.seed, 0x9e3779b1) + ++this.calls) >>> 0);
    } else {
      const f = this.net.k.f32, s = this.x.ptr >>> 2;
      f.copyWithin(this.out.ptr >>> 2, s, s + len);
    }
  }
  backward(n: number): void {
    const len = n * this.x.size;
    if (this.masked) this.net.k.k.dropout_backward(this.x.grad, this.out.grad, this.mask, len);
    else this.net.k.f32.copyWithin(this.x.grad >>> 2, this.out.grad >>> 2, (this.out.grad >>> 2) + len);
  }
}

/**
 * Stacks sources along the batch: out rows = source 0's rows, then source 1's,
 * … (each source `rows[i]` rows per sample of the batch), so that one pass of
 * the next layers serves them all, as the study's shared trunk does. Backward
 * overwrites the sources' gradients.
 */
export class Stack implements Layer {
  readonly out: Act;
  constructor(private net: Net, private sources: Act[], private rows: number[]) {
    if (!sources.length || sources.some((a) => a.size !== sources[0].size)) throw new Error('stack: sources must have the same size per sample');
    // No gradient buffer when no source takes one: the next layer then skips its input gradient (conv1 its col2im).
    this.out = net.act(sources[0].size, sources.some((a) => a.grad !== 0));
  }
  forward(n: number): void {
    const f = this.net.k.f32, size = this.out.size;
    let at = this.out.ptr >>> 2;
    this.sources.forEach((a, i) => {
      const len = n * this.rows[i] * size;
      f.copyWithin(at, a.ptr >>> 2, (a.ptr >>> 2) + len);
      at += len;
    });
  }
  backward(n: number): void {
    const f = this.net.k.f32, size = this.out.size;
    let at = this.out.grad >>> 2;
    this.sources.forEach((a, i) => {
      const len = n * this.rows[i] * size;
      if (a.grad) f.copyWithin(a.grad >>> 2, at, at + len);
      at += len;
    });
  }
}

/**
 * Where an activation feeds several layers, the one whose backward runs first
 * writes its gradient; each later one writes into a private buffer, and this
 * step, right after it in backward order, adds that into the shared gradient.
 */
export class GradSum implements Layer {
  constructor(private net: Net, readonly out: Act, private shared: number, private priv: number) {}
  forward(): void {}
  backward(n: number): void {
    const f = this.net.k.f32, d = this.shared >>> 2, s = this.priv >>> 2, len = n * this.out.size;
    for (let i = 0; i < len; i++) f[d + i] += f[s + i];
  }
}
