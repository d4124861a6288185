// The model API, in the spirit of Keras and torch.nn: describe a network as its
// layers (`sequential`) or as a graph of symbolic tensors (`input`, `apply`,
// `stack`, `concat`: several inputs, shared layers, several outputs), then
// `compile` it onto the kernels and `fit`, `evaluate`, `predict`, `save`.
//
// Shapes are checked and inferred when the graph is described, before any wasm
// call. `compile` plans every buffer once (layers.ts), fusing the pairs the
// kernels serve in one pass (3×3 conv → batch norm, ReLU → 2×2 max pool), so a
// training step allocates nothing. Parameters carry PyTorch-style names
// (`<layer name>.weight`), so weights move to and from PyTorch as safetensors.
import { Kernels, loadKernels, BuildChoice, CONV_ALGORITHMS } from './kernels.js';
import {
  Act, Layer, Net, Conv2d, Conv2dBatchNorm, ConvReluMaxPool, Linear, BatchNorm, ReLU, ReluMaxPool, Pool2d, GlobalAvgPool2d, Activation, Dropout,
  Stack, PairConcat, GradSum, Optimizer, checkOptimizer, convGeometry, Padding, ConvAlgorithm,
} from './layers.js';
import { loadNet, saveNet } from './safetensors.js';
import { Rng } from './prng.js';

/** A sample's shape: [features], or [channels, height, width]. */
export type Shape = readonly number[];

const fmt = (s: Shape) => `[${s.join(', ')}]`;
const volume = (s: Shape) => s.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------- layers

/** What a layer spec needs to build itself: the net, and whether its parameters are shared with an earlier application. */
interface BuildContext {
  net: Net;
  /** Seed of the model (dropout masks). */
  seed: number;
  /** The Linear that follows a fan-out point adds its input gradient instead of writing it. */
  accumulateDx: boolean;
  /** ReLU and 2×2 max pooling follow: the convolution's kernels choose knowing it, and run fused where they can (ConvReluMaxPool). */
  pooled?: boolean;
}

let nextSpec = 0;

/** A layer's description: its options and name; `apply` it to a tensor, or list it in `sequential`. */
export abstract class LayerSpec {
  /** The name its parameters carry (`name.weight`); given, or assigned by the model (`kind_1`, …). */
  name: string | undefined;
  /**
   * Creation order: parameters are laid out and initialised in it, as PyTorch
   * initialises modules in the order they are constructed, whatever order the
   * graph applies them in.
   */
  readonly order = nextSpec++;
  constructor(readonly kind: string, name?: string) {
    if (name !== undefined && (typeof name !== 'string' || !/^[\w.-]+$/.test(name))) throw new Error(`${kind}: a layer name is letters, digits, '_', '-' and '.', got ${JSON.stringify(name)}`);
    this.name = name;
  }
  /** Output shape for an input shape; throws naming the layer and both shapes. */
  abstract outputShape(input: Shape): Shape;
  /** Trainable values for an input shape (for `summary`). */
  paramCount(_input: Shape): number {
    return 0;
  }
  /** The runtime layer on activation x (shape `input`). */
  abstract build(b: BuildContext, x: Act, input: Shape): Layer;
  /** Whether this layer has parameters (its backward runs even when its input needs no gradient). */
  get trainable(): boolean {
    return false;
  }
  /** Whether its backward can skip the input gradient when nothing needs it (else it gets scratch to write). */
  get skipsInputGrad(): boolean {
    return false;
  }
  /** Applies the layer to a symbolic tensor (functional form); applying it again shares its parameters. */
  apply(t: SymbolicTensor): SymbolicTensor {
    if (!(t instanceof SymbolicTensor)) throw new Error(`${this.label}: apply() takes a tensor from input() or another layer`);
    return new SymbolicTensor(this.outputShape(t.shape), t.parts, { kind: 'layer', spec: this }, [t]);
  }
  protected get label(): string {
    return this.name ? `${this.kind} '${this.name}'` : this.kind;
  }
  protected fail(input: Shape, want: string): never {
    throw new Error(`${this.label}: expects an input ${want}, got ${fmt(input)}`);
  }
  protected image(input: Shape): [number, number, number] {
    if (input.length !== 3) this.fail(input, '[channels, height, width]');
    return input as [number, number, number];
  }
}

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Default 1. */
  stride?: number;
  /** 'valid' (default: no padding) or 'same' (zeros to keep ⌈size/stride⌉). */
  padding?: Padding;
  /** Default true. */
  useBias?: boolean;
  /** Force 'im2col', 'winograd' or 'direct' (default: the kernels' choice). */
  algorithm?: ConvAlgorithm;
  name?: string;
}

class Conv2dSpec extends LayerSpec {
  readonly kernel: [number, number];
  get skipsInputGrad() {
    return true;
  }
  constructor(readonly filters: number, kernelSize: number | [number, number], readonly opts: Conv2dOptions) {
    super('conv2d', opts.name);
    this.kernel = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const bad = (why: string) => new Error(`${this.label}: ${why}`);
    if (!Number.isInteger(filters) || filters < 1) throw bad(`filters must be a positive integer, got ${filters}`);
    if (!Array.isArray(this.kernel) || this.kernel.length !== 2 || !this.kernel.every((k) => Number.isInteger(k) && k >= 1 && k <= 7)) throw bad(`kernel sizes are integers 1 … 7, got ${JSON.stringify(kernelSize)}`);
    if (opts.stride !== undefined && opts.stride !== 1 && opts.stride !== 2) throw bad(`stride is 1 or 2, got ${opts.stride}`);
    if (opts.padding !== undefined && opts.padding !== 'valid' && opts.padding !== 'same') throw bad(`padding is 'valid' or 'same', got ${JSON.stringify(opts.padding)}`);
    if (opts.algorithm !== undefined && !CONV_ALGORITHMS.includes(opts.algorithm)) throw bad(`algorithm is one of ${CONV_ALGORITHMS.join(', ')}, got ${JSON.stringify(opts.algorithm)}`);
  }
  get trainable() {
    return true;
  }
  /** The tuned 3×3 path that a following batch norm can fuse with. */
  get fusable(): boolean {
    const o = this.opts;
    return this.kernel[0] === 3 && this.kernel[1] === 3 && (o.stride ?? 1) === 1 && (o.padding ?? 'valid') === 'valid' && o.useBias !== false && o.algorithm === undefined;
  }
  outputShape(input: Shape): Shape {
    const [, h, w] = this.image(input);
    const s = this.opts.stride ?? 1, p = this.opts.padding ?? 'valid';
    const oh = convGeometry(h, this.kernel[0], s, p).out, ow = convGeometry(w, this.kernel[1], s, p).out;
    if (oh < 1 || ow < 1) this.fail(input, `of at least ${this.kernel[0]}×${this.kernel[1]} pixels for its ${this.kernel[0]}×${this.kernel[1]} '${p}' kernel`);
    return [this.filters, oh, ow];
  }
  paramCount(input: Shape): number {
    return this.filters * input[0] * this.kernel[0] * this.kernel[1] + (this.opts.useBias === false ? 0 : this.filters);
  }
  build(b: BuildContext, x: Act, input: Shape): Layer {
    const [c, h, w] = input as [number, number, number];
    return new Conv2d(b.net, this.name!, x, c, h, w, this.filters, { kernel: this.kernel, stride: this.opts.stride, padding: this.opts.padding, bias: this.opts.useBias, algorithm: this.opts.algorithm, pooled: b.pooled });
  }
}

class DenseSpec extends LayerSpec {
  get skipsInputGrad() {
    return true;
  }
  constructor(readonly units: number, name?: string) {
    super('dense', name);
    if (!Number.isInteger(units) || units < 1) throw new Error(`${this.label}: units must be a positive integer, got ${units}`);
  }
  get trainable() {
    return true;
  }
  outputShape(input: Shape): Shape {
    if (input.length !== 1) this.fail(input, '[features] (add flatten() before it)');
    return [this.units];
  }
  paramCount(input: Shape): number {
    return this.units * input[0] + this.units;
  }
  build(b: BuildContext, x: Act, input: Shape): Layer {
    return new Linear(b.net, this.name!, x, input[0], this.units, b.accumulateDx);
  }
}

class BatchNormSpec extends LayerSpec {
  constructor(name?: string) {
    super('batch_norm', name);
  }
  get trainable() {
    return true;
  }
  outputShape(input: Shape): Shape {
    if (input.length !== 1 && input.length !== 3) this.fail(input, '[features] or [channels, height, width]');
    return input;
  }
  paramCount(input: Shape): number {
    return 2 * input[0];
  }
  build(b: BuildContext, x: Act, input: Shape): Layer {
    return new BatchNorm(b.net, this.name!, x, input[0], volume(input) / input[0]);
  }
}

type ActivationKind = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';

class ActivationSpec extends LayerSpec {
  constructor(readonly fn: ActivationKind, readonly slope = 0.01, name?: string) {
    super(fn === 'relu' ? 'relu' : fn === 'leakyRelu' ? 'leaky_relu' : fn, name);
    if (!Number.isFinite(slope)) throw new Error(`${this.label}: slope must be a number, got ${slope}`);
  }
  outputShape(input: Shape): Shape {
    return input;
  }
  build(b: BuildContext, x: Act): Layer {
    return this.fn === 'relu' ? new ReLU(b.net, x) : new Activation(b.net, x, this.fn, this.slope);
  }
}

class PoolSpec extends LayerSpec {
  readonly stride: number;
  constructor(readonly pool: 'max' | 'avg', readonly size: number, stride: number | undefined, name?: string) {
    super(pool === 'max' ? 'max_pool2d' : 'avg_pool2d', name);
    this.stride = stride ?? size;
    if (!Number.isInteger(size) || size < 1) throw new Error(`${this.label}: pool size must be a positive integer, got ${size}`);
    if (!Number.isInteger(this.stride) || this.stride < 1) throw new Error(`${this.label}: stride must be a positive integer, got ${stride}`);
  }
  outputShape(input: Shape): Shape {
    const [c, h, w] = this.image(input);
    if (h < this.size || w < this.size) this.fail(input, `of at least ${this.size}×${this.size} pixels for its window`);
    return [c, Math.floor((h - this.size) / this.stride) + 1, Math.floor((w - this.size) / this.stride) + 1];
  }
  build(b: BuildContext, x: Act, input: Shape): Layer {
    const [c, h, w] = input as [number, number, number];
    return new Pool2d(b.net, x, c, h, w, this.pool, this.size, this.stride);
  }
}

class GlobalAvgPoolSpec extends LayerSpec {
  constructor(name?: string) {
    super('global_avg_pool2d', name);
  }
  outputShape(input: Shape): Shape {
    return [this.image(input)[0]];
  }
  build(b: BuildContext, x: Act, input: Shape): Layer {
    return new GlobalAvgPool2d(b.net, x, input[0], input[1] * input[2]);
  }
}

/** Flatten: the same floats seen as [features] (activations are stored flat already: no copy). */
class FlattenSpec extends LayerSpec {
  constructor(name?: string) {
    super('flatten', name);
  }
  outputShape(input: Shape): Shape {
    return [volume(input)];
  }
  build(_b: BuildContext, x: Act): Layer {
    return { out: x, forward() {}, backward() {} };
  }
}

class DropoutSpec extends LayerSpec {
  constructor(readonly rate: number, name?: string) {
    super('dropout', name);
    if (!(rate >= 0 && rate < 1)) throw new Error(`${this.label}: rate must be in [0, 1), got ${rate}`);
  }
  outputShape(input: Shape): Shape {
    return input;
  }
  build(b: BuildContext, x: Act): Layer {
    return new Dropout(b.net, x, this.rate, b.seed);
  }
}

/** The layers, by their Keras names. */
export const layers = {
  /** 2-D convolution: `filters` output channels, a k×k (or [kh, kw]) kernel of size 1 … 7; stride 1 or 2; 'valid' or 'same' padding. */
  conv2d: (filters: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) => new Conv2dSpec(filters, kernelSize, options),
  /** Fully connected: y = x·Wᵀ + b, W [units, features]. */
  dense: (units: number, options: { name?: string } = {}) => new DenseSpec(units, options.name),
  /** Batch normalisation over channels ([C, H, W]) or features ([F]); PyTorch's momentum 0.1 and eps 1e-5. */
  batchNorm: (options: { name?: string } = {}) => new BatchNormSpec(options.name),
  relu: (options: { name?: string } = {}) => new ActivationSpec('relu', 0, options.name),
  /** x for x > 0, slope·x otherwise (default slope 0.01, as PyTorch). */
  leakyRelu: (options: { slope?: number; name?: string } = {}) => new ActivationSpec('leakyRelu', options.slope ?? 0.01, options.name),
  sigmoid: (options: { name?: string } = {}) => new ActivationSpec('sigmoid', 0, options.name),
  tanh: (options: { name?: string } = {}) => new ActivationSpec('tanh', 0, options.name),
  /** Max pooling over size×size windows, stride = size unless given; no padding. */
  maxPool2d: (size: number, options: { stride?: number; name?: string } = {}) => new PoolSpec('max', size, options.stride, options.name),
  avgPool2d: (size: number, options: { stride?: number; name?: string } = {}) => new PoolSpec('avg', size, options.stride, options.name),
  /** The mean of each channel: [C, H, W] → [C]. */
  globalAvgPool2d: (options: { name?: string } = {}) => new GlobalAvgPoolSpec(options.name),
  flatten: (options: { name?: string } = {}) => new FlattenSpec(options.name),
  /** Inverted dropout with probability `rate` in training; nothing in evaluation. Seeded by the model's seed. */
  dropout: (rate: number, options: { name?: string } = {}) => new DropoutSpec(rate, options.name),
};

// ---------------------------------------------------------------- the graph

type Op =
  | { kind: 'input'; name: string }
  | { kind: 'layer'; spec: LayerSpec }
  | { kind: 'stack' }
  | { kind: 'unstack'; index: number }
  | { kind: 'concat' };

let nextId = 0;

/**
 * A tensor of the graph: its shape per sample and how many samples of the
 * batch each row block holds (`parts`: 2 after stacking two tensors of one row
 * per sample). Made by `input`, `LayerSpec.apply`, `stack`, `unstack`, `concat`.
 */
export class SymbolicTensor {
  readonly id = nextId++;
  constructor(readonly shape: Shape, readonly parts: number, readonly op: Op, readonly inputs: SymbolicTensor[]) {}
}

/** A model input of the given shape per sample. */
export function input(shape: Shape, options: { name?: string } = {}): SymbolicTensor {
  if (!Array.isArray(shape) || shape.length < 1 || !shape.every((d) => Number.isInteger(d) && d >= 1)) throw new Error(`input: shape must be a list of positive sizes, got ${JSON.stringify(shape)}`);
  return new SymbolicTensor([...shape], 1, { kind: 'input', name: options.name ?? 'input' }, []);
}

/** Applies layers in order (a chain of `apply`). */
export function chain(specs: LayerSpec[], t: SymbolicTensor): SymbolicTensor {
  return specs.reduce((h, s) => s.apply(h), t);
}

/**
 * Stacks tensors of one shape along the batch: the layers applied to the
 * result see all of them in one pass (one call, shared weights, batch-norm
 * statistics over all of them), as the study's shared trunk sees both digits.
 */
export function stack(ts: SymbolicTensor[]): SymbolicTensor {
  if (ts.length < 2) throw new Error('stack: give two or more tensors');
  for (const t of ts) if (fmt(t.shape) !== fmt(ts[0].shape)) throw new Error(`stack: shapes differ: ${ts.map((x) => fmt(x.shape)).join(' and ')}`);
  if (ts.some((t) => t.op.kind === 'unstack')) throw new Error('stack: cannot stack the parts of unstack()');
  return new SymbolicTensor(ts[0].shape, ts.reduce((s, t) => s + t.parts, 0), { kind: 'stack' }, ts);
}

/** The parts of a stacked tensor, in stacking order (only `concat` takes them, to join each sample's parts). */
export function unstack(t: SymbolicTensor): SymbolicTensor[] {
  if (t.parts < 2) throw new Error('unstack: the tensor is not stacked');
  return Array.from({ length: t.parts }, (_, i) => new SymbolicTensor(t.shape, 1, { kind: 'unstack', index: i }, [t]));
}

/** Joins two tensors of [F] features per sample into [2F]: row b = [a[b], b[b]]. */
export function concat(ts: [SymbolicTensor, SymbolicTensor]): SymbolicTensor {
  if (!Array.isArray(ts) || ts.length !== 2) throw new Error('concat: give two tensors');
  const [a, b] = ts;
  if (a.shape.length !== 1 || fmt(a.shape) !== fmt(b.shape)) throw new Error(`concat: joins two tensors of the same [features] shape, got ${fmt(a.shape)} and ${fmt(b.shape)} (flatten first)`);
  const parts = [a, b].filter((t) => t.op.kind === 'unstack');
  if (parts.length === 1 || (parts.length === 2 && (a.inputs[0] !== b.inputs[0] || a.inputs[0].parts !== 2 || (a.op as { index: number }).index !== 0 || (b.op as { index: number }).index !== 1))) {
    throw new Error('concat: the parts of unstack() can only be joined all together and in order: concat(unstack(t)) with t of two parts');
  }
  if (a.parts !== b.parts) throw new Error('concat: the two tensors must have the same number of parts');
  return new SymbolicTensor([2 * a.shape[0]], a.parts, { kind: 'concat' }, [a, b]);
}

// ---------------------------------------------------------------- losses and data

/** A loss on one output: 'bce' (binary cross-entropy with logits, targets 0/1), 'crossentropy' (softmax, integer labels), 'mse'. */
export type LossName = 'bce' | 'crossentropy' | 'mse';
export type LossSpec = LossName | { loss: LossName; weight?: number };

/** Values of every sample, flat in row-major order ([N, ...shape]). */
export type Data = Float32Array | Float64Array | Int32Array | Uint8Array | number[];

export interface CompileOptions {
  /** One loss per output (a single one for a single output). */
  loss: LossSpec | LossSpec[];
  /** Default: Adam, lr 1e-3. */
  optimizer?: Optimizer;
  /** The largest batch the buffers are planned for (default 32). */
  batchSize?: number;
  /** Initialisation seed (and dropout's; default 0). */
  seed?: number;
  /** 'simd', 'scalar' or 'auto' (default); ignored when `kernels` is given. */
  build?: BuildChoice;
  /** Plan into these kernels' memory (a worker reusing one instance); default: a fresh instance. */
  kernels?: Kernels;
  /**
   * Threads per kernel call for a fresh instance (default 'auto': one per core,
   * for a model trained alone; ignored when `kernels` is given): the same
   * numbers for any count. Node, Deno, and isolated pages (setHelperWorker);
   * elsewhere one. `dispose()` stops them.
   */
  threads?: number | 'auto';
}

export interface FitOptions {
  epochs?: number;
  /** At most the compiled batch size (default: that). */
  batchSize?: number;
  /** Shuffling seed (default: the compile seed); the order of epoch e is the e-th shuffle of stream 3 of it. */
  seed?: number;
  /** Reshuffle every epoch (default true). */
  shuffle?: boolean;
  validationData?: [Data | Data[], Data | Data[]];
  onEpoch?: (e: EpochLog) => void;
  signal?: AbortSignal;
  /**
   * Kernel threads for this fit, at most the model's (compile's `threads`,
   * default one per core when compile loads the kernels): fewer leave cores
   * to other work. The numbers are the same for any count.
   */
  threads?: number;
}

/** One epoch of `fit`: mean loss and per-output accuracy in training (before each step), and on the validation data. */
export interface EpochLog {
  epoch: number;
  loss: number;
  /** Accuracy of each output (NaN for an 'mse' output). */
  accuracy: number[];
  val?: { loss: number; accuracy: number[] };
}

export interface History {
  epochs: EpochLog[];
  /** Set when the loss turned NaN or infinite: fit stopped there. */
  stopped?: { epoch: number; batch: number; loss: number };
}

/** A planned output: its activation, loss and target buffer. */
interface OutputPlan {
  t: SymbolicTensor;
  act: Act;
  loss: LossName;
  weight: number;
  /** Floats per row of the output. */
  width: number;
  /** Target buffer: labels (i32) or values (f32), part-major rows. */
  target: number;
}

/** One runtime layer in forward order: `label` names it (a fused pair by both names), `rows` its batch multiple. */
export interface Step {
  readonly label: string;
  readonly layer: Layer;
  readonly rows: number;
  /** Whether backward runs (a layer without parameters whose input needs no gradient is skipped). */
  readonly backward: boolean;
}

/** A data set copied into kernel memory once, so batches are memory copies. */
interface Placed {
  n: number;
  xs: number[];
  ys: number[];
}

// ---------------------------------------------------------------- the model

/** A network from inputs to outputs. Build with `sequential` or `model`, then `compile`. */
export class Model {
  readonly tensors: SymbolicTensor[];
  private planned: {
    net: Net;
    k: Kernels;
    batch: number;
    seed: number;
    optimizer: Optimizer;
    steps: Step[];
    acts: Map<SymbolicTensor, Act>;
    inputActs: Act[];
    outputs: OutputPlan[];
    mark: number;
  } | null = null;
  /** compile loaded the kernels: dispose stops their threads. */
  private ownsKernels = false;
  /** Training-mode forwards so far (batch norm's num_batches_tracked). */
  trainForwards = 0;

  constructor(readonly inputs: SymbolicTensor[], readonly outputs: SymbolicTensor[], readonly name = 'model') {
    if (!inputs.length || !outputs.length) throw new Error('model: give at least one input and one output');
    for (const t of inputs) if (t.op.kind !== 'input') throw new Error('model: inputs must come from input()');
    for (const t of outputs) if (t.op.kind === 'unstack') throw new Error('model: an output cannot be a part of unstack()');
    const seen = new Set<SymbolicTensor>();
    const visit = (t: SymbolicTensor) => {
      if (seen.has(t)) return;
      seen.add(t);
      if (t.op.kind === 'input' && !inputs.includes(t)) throw new Error(`model: the outputs depend on input '${t.op.name}', which is not among the model's inputs`);
      t.inputs.forEach(visit);
    };
    outputs.forEach(visit);
    this.tensors = [...seen].sort((a, b) => a.id - b.id);
    // Default names, Keras-style: kind_1, kind_2, … in order of first use.
    const count = new Map<string, number>(), named = new Map<string, LayerSpec>();
    for (const t of this.tensors) {
      if (t.op.kind !== 'layer') continue;
      const s = t.op.spec;
      if (!s.name) {
        let i = (count.get(s.kind) ?? 0) + 1;
        while (named.has(`${s.kind}_${i}`)) i++;
        count.set(s.kind, i);
        s.name = `${s.kind}_${i}`;
      }
      const other = named.get(s.name);
      if (other && other !== s) throw new Error(`model: two different layers are named '${s.name}'`);
      named.set(s.name, s);
    }
  }

  /** Layers, output shapes and parameter counts, one line each, and the total (as Keras's summary). */
  summary(): string {
    const rows: string[][] = [['layer', 'type', 'output shape', 'parameters']];
    let total = 0;
    const counted = new Set<LayerSpec>();
    for (const t of this.tensors) {
      const parts = t.parts > 1 ? ` ×${t.parts}` : '';
      if (t.op.kind === 'layer') {
        const s = t.op.spec, shared = counted.has(s);
        const p = shared ? 0 : s.paramCount(t.inputs[0].shape);
        counted.add(s);
        total += p;
        rows.push([s.name!, s.kind, fmt(t.shape) + parts, shared ? 'shared' : String(p)]);
      } else if (t.op.kind !== 'unstack') {
        rows.push([t.op.kind === 'input' ? t.op.name : '', t.op.kind, fmt(t.shape) + parts, '0']);
      }
    }
    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
    return [`${this.name}`, line(rows[0]), w.map((x) => '-'.repeat(x)).join('  '), ...rows.slice(1).map(line), `total parameters: ${total}`].join('\n');
  }

  /** Loads the kernels (unless given) and plans the model in their memory. */
  async compile(opts: CompileOptions): Promise<this> {
    if (opts.kernels) return this.build(opts.kernels, opts);
    this.build(await loadKernels(opts.build ?? 'auto', { threads: opts.threads ?? 'auto' }), opts);
    this.ownsKernels = true;
    return this;
  }

  /** `compile` on kernels already loaded (synchronous). */
  build(k: Kernels, opts: Omit<CompileOptions, 'kernels' | 'build'>): this {
    if (this.planned) throw new Error(`${this.name}: already compiled`);
    const batch = opts.batchSize ?? 32, seed = opts.seed ?? 0;
    const optimizer = opts.optimizer ?? { type: 'adam', lr: 1e-3 };
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batchSize must be a positive integer, got ${batch}`);
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    checkOptimizer(optimizer);
    const losses = (Array.isArray(opts.loss) ? opts.loss : [opts.loss]).map((l) => (typeof l === 'string' ? { loss: l, weight: 1 } : { weight: 1, ...l }));
    if (losses.length !== this.outputs.length) throw new Error(`${this.name}: ${this.outputs.length} outputs need ${this.outputs.length} losses, got ${losses.length}`);
    losses.forEach((l, i) => {
      if (!['bce', 'crossentropy', 'mse'].includes(l.loss)) throw new Error(`loss ${i}: 'bce', 'crossentropy' or 'mse', got ${JSON.stringify(l.loss)}`);
      if (!Number.isFinite(l.weight)) throw new Error(`loss ${i}: weight must be a number, got ${l.weight}`);
      const sh = this.outputs[i].shape;
      if (sh.length !== 1) throw new Error(`loss ${i} (${l.loss}): output ${i} has shape ${fmt(sh)}; flatten it first`);
      if (l.loss === 'crossentropy' && sh[0] < 2) throw new Error(`loss ${i}: crossentropy needs at least 2 classes, output ${i} has ${sh[0]}`);
    });

    const mark = k.mark();
    try {
      const maxParts = Math.max(...this.tensors.map((t) => t.parts));
      const net = new Net(k, batch * maxParts);
      const acts = new Map<SymbolicTensor, Act>();
      const steps: Step[] = [];
      // Who consumes each tensor, in forward order (unstack parts count as their source's concat).
      const consumers = new Map<SymbolicTensor, SymbolicTensor[]>();
      const source = (t: SymbolicTensor) => (t.op.kind === 'unstack' ? t.inputs[0] : t);
      for (const t of this.tensors) {
        for (const i of new Set(t.inputs.map(source))) consumers.set(i, [...(consumers.get(i) ?? []), t]);
      }
      const fused = new Set<SymbolicTensor>();
      const onlyConsumer = (t: SymbolicTensor) => {
        const c = consumers.get(t) ?? [];
        return c.length === 1 && !this.outputs.includes(t) ? c[0] : null;
      };
      const applications = new Map<LayerSpec, number>();
      const specName = (t: SymbolicTensor) => (t.op as { spec: LayerSpec }).spec.name!;
      // the 2×2 max pool (stride 2) that alone takes t, when t is a ReLU of an image with even sides: fused with it
      const pooledRelu = (t: SymbolicTensor): SymbolicTensor | null => {
        const pool = onlyConsumer(t), x = t.inputs[0];
        if (t.op.kind !== 'layer' || !(t.op.spec instanceof ActivationSpec) || t.op.spec.fn !== 'relu' || !pool || pool.op.kind !== 'layer' || applications.has(pool.op.spec)) return null;
        const p = pool.op.spec;
        return p instanceof PoolSpec && p.pool === 'max' && p.size === 2 && p.stride === 2 && x.shape.length === 3 && x.shape[1] % 2 === 0 && x.shape[2] % 2 === 0 ? pool : null;
      };
      const inputActs = this.inputs.map((t) => {
        const a = net.act(volume(t.shape), false);
        acts.set(t, a);
        return a;
      });
      // The input activation a consumer sees: the real one if its backward runs first at a fan-out
      // (the last consumer in forward order) or nothing flows back; else a private gradient summed in after it.
      const handed = new Set<string>();
      const inputFor = (t: SymbolicTensor, user: SymbolicTensor, canAccumulate: boolean, needsGrad: boolean): { act: Act; accumulate: boolean } => {
        const a = acts.get(t)!;
        const cs = consumers.get(t)!;
        if (!a.grad) {
          // Nothing needs this gradient; a layer with parameters still writes one: give it scratch.
          return { act: needsGrad ? { ptr: a.ptr, grad: net.scratch(a.size * net.maxBatch), size: a.size } : a, accumulate: false };
        }
        const key = `${t.id}:${user.id}`, first = !handed.has(key); // concat([t, t]) asks twice
        handed.add(key);
        if (cs[cs.length - 1] === user && first) return { act: a, accumulate: false };
        if (canAccumulate) return { act: a, accumulate: true };
        const priv = { ptr: a.ptr, grad: net.scratch(a.size * net.maxBatch), size: a.size };
        steps.push({ label: 'grad sum', layer: new GradSum(net, priv, a.grad, priv.grad), rows: t.parts, backward: true });
        return { act: priv, accumulate: false };
      };
      for (const t of this.tensors) {
        if (t.op.kind === 'input' || t.op.kind === 'unstack' || fused.has(t)) continue;
        if (t.op.kind === 'stack') {
          const srcs = t.inputs.map((i) => inputFor(i, t, false, false).act);
          const layer = new Stack(net, srcs, t.inputs.map((i) => i.parts));
          acts.set(t, layer.out);
          steps.push({ label: 'stack', layer, rows: 1, backward: srcs.some((a) => a.grad) });
          continue;
        }
        if (t.op.kind === 'concat') {
          const [a, b] = t.inputs;
          const pair = a.op.kind === 'unstack';
          const src = inputFor(source(a), t, false, true).act;
          const other = pair ? null : inputFor(b, t, false, true).act;
          const layer = new PairConcat(net, src, other);
          acts.set(t, layer.out);
          steps.push({ label: 'concat', layer, rows: t.parts, backward: !!src.grad || !!other?.grad });
          continue;
        }
        const spec = t.op.spec, x = t.inputs[0];
        const shared = applications.has(spec);
        applications.set(spec, (applications.get(spec) ?? 0) + 1);
        const next = onlyConsumer(t);
        const nextSpec = next && next.op.kind === 'layer' && !applications.has(next.op.spec) ? next.op.spec : null;
        const { act, accumulate } = inputFor(x, t, spec instanceof DenseSpec, spec.trainable && !spec.skipsInputGrad);
        net.sharing = shared;
        let layer: Layer;
        let out: SymbolicTensor = t; // the tensor the layer's output stands for (the last one fused)
        const names = [spec.name!];
        if (spec instanceof Conv2dSpec && spec.fusable && nextSpec instanceof BatchNormSpec) {
          // conv → batch norm in one kernel (same parameters and results)
          const [c, h, w] = x.shape as [number, number, number];
          layer = new Conv2dBatchNorm(net, spec.name!, nextSpec.name!, act, c, h, w, spec.filters);
          fused.add(next!);
          applications.set(nextSpec, 1);
          out = next!;
          names.push(specName(next!));
        } else if (pooledRelu(t)) {
          // ReLU → 2×2 max pool in one kernel
          const [c, h, w] = x.shape as [number, number, number];
          layer = new ReluMaxPool(net, act, c, h, w);
          fused.add(next!);
          out = next!;
          names.push(specName(next!));
        } else {
          const pool = next && pooledRelu(next);
          layer = spec.build({ net, seed, accumulateDx: accumulate, pooled: !!pool }, act, x.shape);
          if (pool && layer instanceof Conv2d && layer.poolsInRegisters) {
            // conv → ReLU → 2×2 max pool in one forward kernel
            layer = new ConvReluMaxPool(net, layer);
            fused.add(next!).add(pool);
            out = pool;
            names.push(specName(next!), specName(pool));
          }
        }
        net.sharing = false;
        acts.set(out, layer.out);
        const label = names.join(' + ');
        steps.push({ label, layer, rows: t.parts, backward: spec.trainable || !!act.grad });
      }
      const outputs = this.outputs.map((t, i): OutputPlan => {
        const width = t.shape[0], loss = losses[i].loss;
        const act = acts.get(t)!;
        return { t, act, loss, weight: losses[i].weight, width, target: net.scratch(batch * t.parts * (loss === 'crossentropy' ? 1 : width)) };
      });
      // Parameters (and buffers) in the order their layers were created, then as each layer declares them.
      const rank = new Map<string, number>();
      for (const t of this.tensors) if (t.op.kind === 'layer') rank.set(t.op.spec.name!, t.op.spec.order);
      const owner = (name: string) => rank.get(name.slice(0, name.lastIndexOf('.'))) ?? Infinity;
      const byOwner = <T extends { name: string }>(list: T[]) => {
        const sorted = list.map((x, i) => [x, i] as const).sort((a, b) => owner(a[0].name) - owner(b[0].name) || a[1] - b[1]).map(([x]) => x);
        list.splice(0, list.length, ...sorted);
      };
      byOwner(net.params);
      byOwner(net.buffers);
      net.finalize(seed);
      this.planned = { net, k, batch, seed, optimizer, steps, acts, inputActs, outputs, mark };
    } catch (e) {
      k.release(mark);
      throw e;
    }
    return this;
  }

  private get p() {
    if (!this.planned) throw new Error(`${this.name}: compile() it first`);
    return this.planned;
  }

  /** The parameters and buffers (PyTorch names): `net.read(name)`, `net.write(name, values)`, `net.names()`. */
  get net(): Net {
    return this.p.net;
  }

  get kernels(): Kernels {
    return this.p.k;
  }

  /** The batch size the model was compiled for. */
  get batchSize(): number {
    return this.p.batch;
  }

  /** The runtime layers in forward order (for profilers and the curious). */
  get steps(): readonly Step[] {
    return this.p.steps;
  }

  /** Releases the model's kernel memory (only when nothing was planned after it in the same kernels) and stops their helper threads. */
  dispose(): void {
    if (!this.planned) return;
    this.planned.k.release(this.planned.mark);
    if (this.ownsKernels) this.planned.k.close();
    this.planned = null;
  }

  private checkCount(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.p.batch) throw new RangeError(`${this.name}: a batch of ${n} samples; this model holds 1 … ${this.p.batch}`);
  }

  /** Activation of any tensor of the graph after the last forward: n samples, part-major rows. */
  read(t: SymbolicTensor, n: number): Float32Array {
    const a = this.p.acts.get(t);
    if (!a) throw new Error(`${this.name}: that tensor is not kept (fused into the next layer, or not in this model)`);
    return this.p.k.read(a.ptr, n * t.parts * a.size);
  }

  /** Byte offset of input i's batch buffer ([batch, ...shape]). */
  inputPtr(i: number): number {
    return this.p.inputActs[i].ptr;
  }

  /** Byte offset of output i's activation and of its target buffer. */
  outputBuffers(i: number): { ptr: number; grad: number; target: number } {
    const o = this.p.outputs[i];
    return { ptr: o.act.ptr, grad: o.act.grad, target: o.target };
  }

  /** Forward on the n samples in the input buffers (training mode: batch statistics, dropout on). */
  forward(n: number, train: boolean): void {
    this.checkCount(n);
    if (train) this.trainForwards++;
    for (const s of this.p.steps) s.layer.forward(n * s.rows, train);
  }

  /** Every output's loss on the targets in place, writing the outputs' gradients; returns the total and each output's part. */
  lossAndGrad(n: number): { loss: number; parts: number[][] } {
    this.checkCount(n);
    const { k } = this.p.k;
    let loss = 0;
    const parts: number[][] = [];
    for (const o of this.p.outputs) {
      const P = o.t.parts, rowBytes = o.width * 4, each: number[] = [];
      for (let j = 0; j < P; j++) {
        const off = j * n * rowBytes, scale = o.weight / P;
        if (o.loss === 'bce') each.push(k.bce_with_logits(o.act.grad + off, o.act.ptr + off, o.target + off, n * o.width, scale));
        else if (o.loss === 'mse') each.push(k.mse_loss(o.act.grad + off, o.act.ptr + off, o.target + off, n, o.width, scale));
        else each.push(k.softmax_cross_entropy(o.act.grad + off, o.act.ptr + off, o.target + j * n * 4, n, o.width, scale));
      }
      parts.push(each);
      loss += (o.weight * each.reduce((a, b) => a + b, 0)) / P;
    }
    return { loss, parts };
  }

  /** Backward from the outputs' gradients; parameter gradients accumulate. */
  backward(n: number): void {
    this.checkCount(n);
    const steps = this.p.steps;
    for (let i = steps.length - 1; i >= 0; i--) if (steps[i].backward) steps[i].layer.backward(n * steps[i].rows);
  }

  /** Zeroes the gradients, then forward (training mode), loss and backward on the batch in place. */
  forwardBackward(n: number): { loss: number; parts: number[][] } {
    this.p.net.zeroGrads();
    this.forward(n, true);
    const r = this.lossAndGrad(n);
    this.backward(n);
    return r;
  }

  /** forwardBackward, then one optimiser step. */
  trainStep(n: number): { loss: number; parts: number[][] } {
    const r = this.forwardBackward(n);
    this.p.net.step(this.p.optimizer);
    return r;
  }

  /** Adds, per output, the rows right in the last forward to `into` (bce: logit > 0 ⇔ target 1; crossentropy: argmax; mse: NaN). No allocation: it runs every batch. */
  private right(n: number, into: number[]): void {
    const { f32, i32 } = this.p.k;
    this.p.outputs.forEach((o, i) => (into[i] += this.rightOf(o, n, f32, i32)));
  }

  private rightOf(o: OutputPlan, n: number, f32: Float32Array, i32: Int32Array): number {
    const rows = n * o.t.parts, z = o.act.ptr >>> 2, w = o.width;
    if (o.loss === 'mse') return NaN;
    let right = 0;
    if (o.loss === 'bce') {
      const t = o.target >>> 2;
      for (let r = 0; r < rows * w; r++) if ((f32[z + r] > 0 ? 1 : 0) === f32[t + r]) right++;
      return right / w;
    }
    const t = o.target >>> 2;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 1; j < w; j++) if (f32[z + r * w + j] > f32[z + r * w + best]) best = j;
      if (best === i32[t + r]) right++;
    }
    return right;
  }

  // ---- data

  private rowsOf(xs: Data[], ys: Data[] | null, what: string): number {
    const p = this.p;
    if (xs.length !== this.inputs.length) throw new Error(`${what}: the model has ${this.inputs.length} inputs, got ${xs.length} arrays`);
    const n = xs[0].length / volume(this.inputs[0].shape);
    xs.forEach((x, i) => {
      const per = volume(this.inputs[i].shape);
      if (!x || typeof x.length !== 'number' || x.length % per !== 0 || x.length / per !== n || n === 0) {
        throw new Error(`${what}: input ${i} has ${x?.length} values; expected a positive multiple of ${fmt(this.inputs[i].shape)} = ${per}, the same sample count for every input`);
      }
    });
    if (ys) {
      if (ys.length !== this.outputs.length) throw new Error(`${what}: the model has ${this.outputs.length} outputs, got ${ys.length} target arrays`);
      ys.forEach((y, i) => {
        const o = p.outputs[i], per = o.t.parts * (o.loss === 'crossentropy' ? 1 : o.width);
        if (!y || y.length !== n * per) throw new Error(`${what}: target ${i} has ${y?.length} values, expected ${n} samples × ${per} = ${n * per}`);
        for (let j = 0; j < y.length; j++) {
          const v = y[j];
          if (o.loss === 'crossentropy' ? !(Number.isInteger(v) && v >= 0 && v < o.width) : !Number.isFinite(v)) {
            throw new Error(`${what}: target ${i}[${j}] is ${v}: ${o.loss === 'crossentropy' ? `labels are integers 0 … ${o.width - 1}` : 'targets are finite numbers'}`);
          }
          if (o.loss === 'bce' && !(v >= 0 && v <= 1)) throw new Error(`${what}: target ${i}[${j}] is ${v}: bce targets are in [0, 1]`);
        }
      });
    }
    return n;
  }

  private place(xs: Data[], ys: Data[], n: number): Placed {
    const k = this.p.k;
    return {
      n,
      xs: xs.map((x) => {
        const ptr = k.alloc(x.length);
        k.write(ptr, x);
        return ptr;
      }),
      ys: ys.map((y, i) => {
        const ptr = k.alloc(y.length);
        if (this.p.outputs[i].loss === 'crossentropy') k.i32.set(y, ptr >>> 2);
        else k.write(ptr, y);
        return ptr;
      }),
    };
  }

  /** Copies samples order[from … from+n) (or from … from+n) of a placed set into the batch buffers. */
  private loadBatch(s: Placed, order: Int32Array | null, from: number, n: number, withTargets: boolean): void {
    const { f32 } = this.p.k;
    this.inputs.forEach((t, i) => {
      const per = volume(t.shape), src = s.xs[i] >>> 2, dst = this.p.inputActs[i].ptr >>> 2;
      if (!order) {
        f32.copyWithin(dst, src + from * per, src + (from + n) * per);
        return;
      }
      for (let b = 0; b < n; b++) {
        const q = src + order[from + b] * per;
        f32.copyWithin(dst + b * per, q, q + per);
      }
    });
    if (!withTargets) return;
    this.p.outputs.forEach((o, i) => {
      // sample b's part j goes to row j·n + b (parts are stacked along the batch)
      const per = o.loss === 'crossentropy' ? 1 : o.width, P = o.t.parts, src = s.ys[i] >>> 2, dst = o.target >>> 2;
      for (let b = 0; b < n; b++) {
        const q = src + (order ? order[from + b] : from + b) * P * per;
        for (let j = 0; j < P; j++) f32.copyWithin(dst + (j * n + b) * per, q + j * per, q + (j + 1) * per);
      }
    });
  }

  /**
   * Copies one batch in: x (one array per input) and, unless null, y (one per
   * output), in the layout `fit` takes. Returns the sample count n, for
   * `forward(n, …)`, `trainStep(n)` and the rest of a step by hand.
   */
  setBatch(x: Data | Data[], y: Data | Data[] | null): number {
    const xs = this.asList(x, this.inputs.length), ys = y === null ? null : this.asList(y, this.outputs.length);
    const n = this.rowsOf(xs, ys, 'setBatch');
    this.checkCount(n);
    const mark = this.p.k.mark();
    try {
      this.loadBatch(this.place(xs, ys ?? [], n), null, 0, n, ys !== null);
    } finally {
      this.p.k.release(mark);
    }
    return n;
  }

  /** Mean loss and accuracy over a placed set, in evaluation mode. */
  private evaluatePlaced(s: Placed, batch: number): { loss: number; accuracy: number[] } {
    let loss = 0;
    const right = this.p.outputs.map(() => 0);
    for (let from = 0; from < s.n; from += batch) {
      const n = Math.min(batch, s.n - from);
      this.loadBatch(s, null, from, n, true);
      this.forward(n, false);
      loss += this.lossAndGrad(n).loss * n;
      this.right(n, right);
    }
    return { loss: loss / s.n, accuracy: right.map((r, i) => r / (s.n * this.p.outputs[i].t.parts)) };
  }

  /**
   * Trains on samples x (one flat array per input, [N, ...shape]) and targets y
   * (one per output: N labels per part for 'crossentropy', N·F values per part
   * otherwise, sample-major). Returns the per-epoch history.
   */
  async fit(x: Data | Data[], y: Data | Data[], opts: FitOptions = {}): Promise<History> {
    const p = this.p;
    const xs = this.asList(x, this.inputs.length), ys = this.asList(y, this.outputs.length);
    const epochs = opts.epochs ?? 1, batch = opts.batchSize ?? p.batch;
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
    if (!Number.isInteger(batch) || batch < 1 || batch > p.batch) throw new Error(`fit: batchSize must be 1 … ${p.batch} (the compiled batch size), got ${batch}`);
    const n = this.rowsOf(xs, ys, 'fit');
    const threads = opts.threads ?? p.k.threads;
    if (!Number.isInteger(threads) || threads < 1 || threads > p.k.threads) {
      throw new Error(`fit: threads must be 1 … ${p.k.threads} (the model's kernels have ${p.k.threads}; compile({ threads }) sets it), got ${threads}`);
    }
    let val: [Data[], Data[], number] | null = null;
    if (opts.validationData) {
      const [vx, vy] = opts.validationData;
      const vxs = this.asList(vx, this.inputs.length), vys = this.asList(vy, this.outputs.length);
      val = [vxs, vys, this.rowsOf(vxs, vys, 'fit: validationData')];
    }
    const mark = p.k.mark(), allThreads = p.k.activeThreads;
    p.k.activeThreads = threads;
    try {
      const train = this.place(xs, ys, n);
      const valSet = val ? this.place(val[0], val[1], val[2]) : null;
      const order = Int32Array.from({ length: n }, (_, i) => i);
      const rng = new Rng(opts.seed ?? p.seed, 3);
      const history: History = { epochs: [] };
      for (let epoch = 1; epoch <= epochs; epoch++) {
        opts.signal?.throwIfAborted();
        if (opts.shuffle !== false) rng.shuffle(order);
        let lossSum = 0;
        const right = p.outputs.map(() => 0);
        for (let from = 0, b = 0; from < n; from += batch, b++) {
          const m = Math.min(batch, n - from);
          this.loadBatch(train, order, from, m, true);
          const { loss } = this.trainStep(m);
          if (!Number.isFinite(loss)) {
            history.stopped = { epoch, batch: b, loss };
            return history;
          }
          lossSum += loss * m;
          this.right(m, right);
        }
        const log: EpochLog = { epoch, loss: lossSum / n, accuracy: right.map((r, i) => r / (n * p.outputs[i].t.parts)) };
        if (valSet) log.val = this.evaluatePlaced(valSet, batch);
        history.epochs.push(log);
        opts.onEpoch?.(log);
      }
      return history;
    } finally {
      p.k.activeThreads = allThreads;
      p.k.release(mark);
    }
  }

  /** Mean loss and per-output accuracy on (x, y), in evaluation mode, in batches of the compiled size. */
  evaluate(x: Data | Data[], y: Data | Data[]): { loss: number; accuracy: number[] } {
    const xs = this.asList(x, this.inputs.length), ys = this.asList(y, this.outputs.length);
    const n = this.rowsOf(xs, ys, 'evaluate');
    const mark = this.p.k.mark();
    try {
      return this.evaluatePlaced(this.place(xs, ys, n), this.p.batch);
    } finally {
      this.p.k.release(mark);
    }
  }

  /** The outputs for samples x in evaluation mode: one Float32Array per output, [N, parts, F] sample-major. */
  predict(x: Data | Data[]): Float32Array[] {
    const p = this.p, xs = this.asList(x, this.inputs.length);
    const n = this.rowsOf(xs, null, 'predict');
    const outs = p.outputs.map((o) => new Float32Array(n * o.t.parts * o.width));
    const mark = p.k.mark();
    try {
      const s = this.place(xs, [], n);
      for (let from = 0; from < n; from += p.batch) {
        const m = Math.min(p.batch, n - from);
        this.loadBatch(s, null, from, m, false);
        this.forward(m, false);
        p.outputs.forEach((o, i) => {
          const z = p.k.f32, base = o.act.ptr >>> 2, w = o.width, P = o.t.parts;
          for (let b = 0; b < m; b++) for (let j = 0; j < P; j++) outs[i].set(z.subarray(base + (j * m + b) * w, base + (j * m + b + 1) * w), ((from + b) * P + j) * w);
        });
      }
    } finally {
      p.k.release(mark);
    }
    return outs;
  }

  private asList(v: Data | Data[], count: number): Data[] {
    const list = count === 1 && !(Array.isArray(v) && v.length > 0 && typeof v[0] === 'object') ? [v as Data] : (v as Data[]);
    if (!Array.isArray(list)) throw new Error(`expected ${count} arrays`);
    return list;
  }

  /** Saves every parameter and buffer as safetensors (PyTorch's names and layouts), with string metadata. */
  save(path: string, metadata: Record<string, string> = {}): Promise<void> {
    return saveNet(this.p.net, path, this.trainForwards, { model: this.name, format: 'pt', ...metadata });
  }

  /** Loads parameters and buffers saved by `save` (or by PyTorch's safetensors with the same names). */
  async load(path: string): Promise<void> {
    await loadNet(this.p.net, path);
  }
}

/** A stack of layers, each applied to the previous one's output (Keras's Sequential). */
export function sequential(specs: LayerSpec[], options: { input: Shape; name?: string }): Model {
  if (!Array.isArray(specs) || specs.length === 0) throw new Error('sequential: give at least one layer');
  if (!options?.input) throw new Error('sequential: give the input shape per sample, e.g. { input: [1, 28, 28] }');
  specs.forEach((s, i) => {
    if (!(s instanceof LayerSpec)) throw new Error(`sequential: entry ${i} is not a layer (use layers.dense(…), layers.conv2d(…), …)`);
  });
  const x = input(options.input);
  return new Model([x], [chain(specs, x)], options.name ?? 'sequential');
}

/** A model from the graph between `inputs` and `outputs` (Keras's functional Model). */
export function model(options: { inputs: SymbolicTensor | SymbolicTensor[]; outputs: SymbolicTensor | SymbolicTensor[]; name?: string }): Model {
  const list = (t: SymbolicTensor | SymbolicTensor[]) => (Array.isArray(t) ? t : [t]);
  return new Model(list(options.inputs), list(options.outputs), options.name);
}
