// Models 2 and 4 of STUDY.md in TensorFlow.js, for the peers benchmark: the
// same layers, sizes, losses, Adam settings and data as simdnet, written with
// tf ops (NHWC, TensorFlow.js's native layout). Used only by bench/.
import * as tf from '@tensorflow/tfjs';

type V = tf.Variable;

function uniform(shape: number[], fanIn: number): V {
  const b = 1 / Math.sqrt(fanIn);
  return tf.variable(tf.randomUniform(shape, -b, b, 'float32', 1));
}

interface BN { gamma: V; beta: V; mean: V; variance: V }

function bn(n: number): BN {
  return { gamma: tf.variable(tf.ones([n])), beta: tf.variable(tf.zeros([n])), mean: tf.variable(tf.zeros([n]), false), variance: tf.variable(tf.ones([n]), false) };
}

export class TfModel {
  private params: Record<string, V> = {};
  private bns: Record<string, BN> = {};
  private optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  private pendingStats: [BN, tf.Tensor, tf.Tensor][] = [];

  constructor(readonly id: 2 | 4) {
    const p = this.params;
    p.c1w = uniform([3, 3, 1, 32], 9); p.c1b = uniform([32], 9);
    p.c2w = uniform([3, 3, 32, 64], 288); p.c2b = uniform([64], 288);
    const dense = (name: string, i: number, o: number) => { p[`${name}w`] = uniform([i, o], i); p[`${name}b`] = uniform([o], i); };
    dense('h1', 512, 256); dense('h2', 256, 128); dense('h3', 128, 64); dense('ho', 64, 1);
    if (id === 4) {
      dense('d1', 256, 128); dense('do', 128, 10);
      for (const [k, n] of [['t1', 32], ['t2', 64], ['h1', 256], ['h2', 128], ['h3', 64], ['d1', 128]] as const) this.bns[k] = bn(n);
    }
  }

  private norm(x: tf.Tensor, name: string, train: boolean): tf.Tensor {
    const b = this.bns[name];
    if (!b) return x;
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    if (!train) return tf.batchNorm(x, b.mean, b.variance, b.beta, b.gamma, 1e-5);
    const { mean, variance } = tf.moments(x, axes);
    const m = axes.reduce((s, a) => s * x.shape[a]!, 1);
    this.pendingStats.push([b, tf.keep(mean.clone()), tf.keep(variance.mul(m / (m - 1)))]);
    return tf.batchNorm(x, mean, variance, b.beta, b.gamma, 1e-5);
  }

  private fc(x: tf.Tensor, name: string): tf.Tensor {
    return tf.add(tf.matMul(x as tf.Tensor2D, this.params[`${name}w`] as tf.Tensor2D), this.params[`${name}b`]);
  }

  /** x: [2B, 14, 14, 1] (digit-0 images, then digit-1). Returns the pair logits [B] and digit logits [2B, 10]. */
  forward(x: tf.Tensor4D, train: boolean): { logits: tf.Tensor1D; digits: tf.Tensor2D | null } {
    const p = this.params, B = x.shape[0] / 2;
    let a: tf.Tensor = tf.add(tf.conv2d(x, p.c1w as tf.Tensor4D, 1, 'valid'), p.c1b);
    a = tf.maxPool(tf.relu(this.norm(a, 't1', train)) as tf.Tensor4D, 2, 2, 'valid');
    a = tf.add(tf.conv2d(a as tf.Tensor4D, p.c2w as tf.Tensor4D, 1, 'valid'), p.c2b);
    a = tf.maxPool(tf.relu(this.norm(a, 't2', train)) as tf.Tensor4D, 2, 2, 'valid');
    const t = tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [2 * B, 256]); // flatten (c, h, w) as PyTorch
    const [t0, t1] = tf.split(t, 2, 0);
    let h: tf.Tensor = tf.concat([t0, t1], 1);
    for (const l of ['h1', 'h2', 'h3']) h = tf.relu(this.norm(this.fc(h, l), l, train));
    const logits = tf.reshape(this.fc(h, 'ho'), [B]) as tf.Tensor1D;
    let digits: tf.Tensor2D | null = null;
    if (this.id === 4) digits = this.fc(tf.relu(this.norm(this.fc(t, 'd1'), 'd1', train)), 'do') as tf.Tensor2D;
    return { logits, digits };
  }

  /** One Adam step on a batch; returns the loss. */
  step(x: tf.Tensor4D, target: tf.Tensor1D, classes: tf.Tensor1D): number {
    const loss = this.optimizer.minimize(() => {
      const { logits, digits } = this.forward(x, true);
      let l = tf.losses.sigmoidCrossEntropy(target, logits);
      if (digits) l = tf.add(l, tf.losses.softmaxCrossEntropy(tf.oneHot(classes, 10), digits)) as tf.Scalar;
      return l as tf.Scalar;
    }, true)!;
    for (const [b, mean, variance] of this.pendingStats) {
      b.mean.assign(tf.tidy(() => b.mean.mul(0.9).add(mean.mul(0.1))));
      b.variance.assign(tf.tidy(() => b.variance.mul(0.9).add(variance.mul(0.1))));
      mean.dispose();
      variance.dispose();
    }
    this.pendingStats = [];
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  }

  /** Pairs predicted right in evaluation mode. */
  evaluate(x: tf.Tensor4D, target: tf.Tensor1D): number {
    return tf.tidy(() => {
      const { logits } = this.forward(x, false);
      return tf.sum(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), target)).dataSync()[0];
    });
  }
}

/**
 * TensorFlow.js 4.22's wasm backend lacks Conv2DBackpropFilter, needed to train
 * a convolution. This registers one built from the wasm backend's own kernels
 * (stride 1, 'valid' as the study uses or 'same' as LeNet's first layer): with the input channels as the
 * batch and the images as channels, the filter gradient is one convolution of
 * the input by the output gradient, between transposes.
 */
export function registerWasmConv2DBackpropFilter(): void {
  const get = (name: string) => tf.getKernel(name, 'wasm')!.kernelFunc as (a: unknown) => tf.TensorInfo;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, filterShape } = attrs as unknown as { strides: number | number[]; pad: string; filterShape: number[] };
      const s = Array.isArray(strides) ? strides : [strides, strides];
      if (s[0] !== 1 || s[1] !== 1 || (pad !== 'valid' && pad !== 'same')) throw new Error('this Conv2DBackpropFilter handles stride 1, valid or same padding only');
      const transpose = get('Transpose'), conv = get('Conv2D');
      let xp = x;
      if (pad === 'same') {
        // 'same' at stride 1 is 'valid' on the input padded by the kernel's half (the odd zero at the end)
        const [kh, kw] = filterShape, t = (kh - 1) >> 1, l = (kw - 1) >> 1;
        xp = get('PadV2')({ inputs: { x }, backend, attrs: { paddings: [[0, 0], [t, kh - 1 - t], [l, kw - 1 - l], [0, 0]], constantValue: 0 } });
      }
      const xt = transpose({ inputs: { x: xp }, backend, attrs: { perm: [3, 1, 2, 0] } }); // [Ci, H, W, N]
      const dyt = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [OH, OW, N, Co]
      const r = conv({ inputs: { x: xt, filter: dyt }, backend, attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined } }); // [Ci, KH, KW, Co]
      const out = transpose({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [KH, KW, Ci, Co]
      const b = backend as unknown as { disposeData(id: object): void };
      for (const t of [xt, dyt, r, ...(xp !== x ? [xp] : [])]) b.disposeData(t.dataId);
      if (out.shape.join() !== filterShape.join()) throw new Error(`filter gradient shape ${out.shape} != ${filterShape}`);
      return out;
    },
  });
}

/** LeNet-5 as bench/lenet.ts times it in simdnet: the same layers, sizes, loss and Adam, in tf ops (NHWC). */
export class TfLeNet {
  private p: Record<string, V> = {};
  private optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  constructor() {
    const p = this.p;
    p.c1w = uniform([5, 5, 1, 6], 25); p.c1b = uniform([6], 25);
    p.c2w = uniform([5, 5, 6, 16], 150); p.c2b = uniform([16], 150);
    const dense = (name: string, i: number, o: number) => { p[`${name}w`] = uniform([i, o], i); p[`${name}b`] = uniform([o], i); };
    dense('f1', 400, 120); dense('f2', 120, 84); dense('f3', 84, 10);
  }
  /** x: [N, 28, 28, 1] → logits [N, 10]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const p = this.p;
    let a: tf.Tensor = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, p.c1w as tf.Tensor4D, 1, 'same'), p.c1b)) as tf.Tensor4D, 2, 2, 'valid');
    a = tf.maxPool(tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, p.c2w as tf.Tensor4D, 1, 'valid'), p.c2b)) as tf.Tensor4D, 2, 2, 'valid');
    let h: tf.Tensor = tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [x.shape[0], 400]);
    h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, p.f1w as tf.Tensor2D), p.f1b));
    h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, p.f2w as tf.Tensor2D), p.f2b));
    return tf.add(tf.matMul(h as tf.Tensor2D, p.f3w as tf.Tensor2D), p.f3b) as tf.Tensor2D;
  }
  step(x: tf.Tensor4D, labels: tf.Tensor1D): number {
    const loss = this.optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), this.forward(x)) as tf.Scalar, true)!;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  }
  /** Samples classified right. */
  evaluate(x: tf.Tensor4D, labels: tf.Tensor1D): number {
    return tf.tidy(() => tf.sum(tf.equal(tf.argMax(this.forward(x), 1), labels)).dataSync()[0]);
  }
}
