// The model API: shape inference and its errors, every layer's gradient through
// a compiled model against finite differences, shared layers and fan-out,
// fit / evaluate / predict / save, and the same numbers on both builds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels, Kernels } from '../src/kernels.js';
import { layers as nn, sequential, model, input, chain, stack, unstack, concat, Model, LayerSpec } from '../src/nn.js';
import { Rng } from '../src/prng.js';
import * as ref from './reference.js';

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels('simd');
});

const lenet = () => sequential([
  nn.conv2d(6, 5, { padding: 'same', name: 'conv1' }), nn.relu(), nn.maxPool2d(2),
  nn.conv2d(16, 5, { name: 'conv2' }), nn.relu(), nn.maxPool2d(2),
  nn.flatten(), nn.dense(120, { name: 'fc1' }), nn.relu(), nn.dense(84, { name: 'fc2' }), nn.relu(), nn.dense(10, { name: 'fc3' }),
], { input: [1, 28, 28], name: 'lenet5' });

describe('shapes', () => {
  it('sequential infers every shape and counts parameters (LeNet-5: 61,706)', () => {
    const s = lenet().summary();
    expect(s).toMatch(/conv1\s+conv2d\s+\[6, 28, 28\]\s+156/);
    expect(s).toMatch(/conv2\s+conv2d\s+\[16, 10, 10\]\s+2416/);
    expect(s).toMatch(/max_pool2d_2\s+max_pool2d\s+\[16, 5, 5\]\s+0/);
    expect(s).toMatch(/flatten_1\s+flatten\s+\[400\]/);
    expect(s).toMatch(/fc3\s+dense\s+\[10\]\s+850/);
    expect(s).toMatch(/total parameters: 61706/);
    const o = (t: ReturnType<typeof input>) => t.shape;
    expect(o(nn.conv2d(4, [3, 5], { stride: 2, padding: 'same' }).apply(input([2, 9, 8])))).toEqual([4, 5, 4]);
    expect(o(nn.conv2d(4, 7, { stride: 2 }).apply(input([2, 9, 8])))).toEqual([4, 2, 1]);
    expect(o(nn.avgPool2d(3, { stride: 2 }).apply(input([2, 9, 8])))).toEqual([2, 4, 3]);
    expect(o(nn.globalAvgPool2d().apply(input([5, 3, 3])))).toEqual([5]);
  });

  it('a shape mistake is an Error naming the layer and both shapes, before any wasm call', async () => {
    expect(() => sequential([nn.conv2d(4, 3), nn.dense(10, { name: 'fc' })], { input: [1, 8, 8] })).toThrow("dense 'fc': expects an input [features] (add flatten() before it), got [4, 6, 6]");
    expect(() => sequential([nn.conv2d(4, 5, { name: 'c' })], { input: [1, 4, 4] })).toThrow(/conv2d 'c': expects an input of at least 5×5 pixels .* got \[1, 4, 4\]/);
    expect(() => sequential([nn.dense(3), nn.conv2d(4, 3)], { input: [8] })).toThrow(/conv2d: expects an input \[channels, height, width\], got \[3\]/);
    expect(() => sequential([nn.maxPool2d(3)], { input: [1, 2, 5] })).toThrow(/max_pool2d: expects an input of at least 3×3 pixels for its window, got \[1, 2, 5\]/);
    expect(() => concat([input([3]), input([4])])).toThrow(/concat: joins two tensors of the same \[features\] shape, got \[3\] and \[4\]/);
    expect(() => stack([input([3]), input([1, 3])])).toThrow(/stack: shapes differ: \[3\] and \[1, 3\]/);
    expect(() => nn.conv2d(0, 3)).toThrow(/filters must be a positive integer/);
    expect(() => nn.conv2d(4, 8)).toThrow(/kernel sizes are integers 1 … 7, got 8/);
    expect(() => nn.conv2d(4, 3, { stride: 3 })).toThrow(/stride is 1 or 2/);
    expect(() => nn.conv2d(4, 3, { padding: 'full' as 'same' })).toThrow(/padding is 'valid' or 'same'/);
    expect(() => nn.dropout(1)).toThrow(/rate must be in \[0, 1\)/);
    expect(() => sequential([nn.conv2d(4, 5, { algorithm: 'winograd' })], { input: [1, 8, 8] }).build(k, { loss: 'mse' })).toThrow(/loss 0 \(mse\): output 0 has shape \[4, 4, 4\]; flatten it first/);
    expect(() => sequential([nn.conv2d(4, 7, { algorithm: 'winograd' }), nn.flatten()], { input: [1, 8, 8] }).build(k, { loss: 'mse' })).toThrow(/the winograd algorithm does not apply to a 7×7/);
    expect(() => sequential([nn.conv2d(4, 3, { stride: 2, algorithm: 'direct' }), nn.flatten()], { input: [1, 8, 8] }).build(k, { loss: 'mse' })).toThrow(/the direct algorithm does not apply to a 3×3 stride-2/);
    expect(() => sequential([nn.conv2d(4, 3, { algorithm: 'fft' as 'direct' })], { input: [1, 8, 8] })).toThrow(/algorithm is one of im2col, winograd, direct, got "fft"/);
    const two = lenet();
    expect(() => two.build(k, { loss: ['crossentropy', 'mse'] })).toThrow(/1 outputs need 1 losses, got 2/);
    await expect(two.fit(new Float32Array(784), [1])).rejects.toThrow(/compile\(\) it first/);
  });
});

/** Every parameter's gradient of a compiled model against central finite differences of its own loss. */
function checkGradients(m: Model, xs: Float32Array[], ys: (Float32Array | Int32Array)[], n: number, tol = 3e-2) {
  const f = k.f32;
  xs.forEach((x, i) => f.set(x, m.inputPtr(i) >>> 2));
  ys.forEach((y, i) => (y instanceof Int32Array ? k.i32 : f).set(y, m.outputBuffers(i).target >>> 2));
  const loss = () => {
    m.forward(n, true);
    return m.lossAndGrad(n).loss;
  };
  m.forwardBackward(n);
  const net = m.net;
  for (const name of net.params.map((p) => p.name)) {
    const g = net.readGrad(name), w = net.read(name);
    const idx = Array.from({ length: Math.min(w.length, 12) }, (_, i) => Math.floor((i * w.length) / Math.min(w.length, 12)));
    const num = new Float64Array(w.length);
    for (const i of idx) {
      const h = 1e-3 * Math.max(1, Math.abs(w[i]));
      const v = w[i];
      w[i] = v + h;
      net.write(name, w);
      const lp = loss();
      w[i] = v - h;
      net.write(name, w);
      const lm = loss();
      w[i] = v;
      net.write(name, w);
      num[i] = (lp - lm) / (2 * h);
    }
    // relative to the tensor's largest gradient, or 1e-2 where it is near zero
    // (a bias before batch norm has a true gradient of zero; float32 differences are noise there)
    let d = 0, big = 1e-2;
    for (const i of idx) {
      d = Math.max(d, Math.abs(g[i] - num[i]));
      big = Math.max(big, Math.abs(num[i]));
    }
    expect(d / big, name).toBeLessThan(tol);
  }
}

describe('every layer through a compiled model', () => {
  const rng = new Rng(3);
  const rand = (n: number, s = 1) => Float32Array.from(ref.randn(rng, n, s));

  // Shallow networks, one per group of layers: float32 finite differences stay accurate through a few layers.
  const nets: [string, () => LayerSpec[], number[]][] = [
    ['conv 3×3 same by Winograd (padded), batch norm, leaky ReLU', () => [nn.conv2d(8, 3, { padding: 'same', algorithm: 'winograd', name: 'c1' }), nn.batchNorm({ name: 'bn1' }), nn.leakyRelu({ slope: 0.1 }), nn.flatten(), nn.dense(3, { name: 'out' })], [2, 8, 12]],
    ['conv 3×5 stride 2 same, tanh, max pool 3/2', () => [nn.conv2d(6, [3, 5], { stride: 2, padding: 'same', name: 'c2' }), nn.tanh(), nn.maxPool2d(3, { stride: 2 }), nn.flatten(), nn.dense(3, { name: 'out' })], [2, 12, 16]],
    ['conv 1×1, sigmoid, avg pool 2/1, conv 3×3 same without bias, global avg pool', () => [nn.conv2d(5, 1, { name: 'c3' }), nn.sigmoid(), nn.avgPool2d(2, { stride: 1 }), nn.conv2d(4, 3, { padding: 'same', useBias: false, name: 'c4' }), nn.tanh(), nn.globalAvgPool2d(), nn.dense(3, { name: 'out' })], [2, 7, 9]],
    ['conv 7×7 stride 2, fused conv 3×3 + batch norm, fused ReLU + 2×2 max pool', () => [nn.conv2d(4, 7, { stride: 2, padding: 'same', name: 'c5' }), nn.conv2d(6, 3, { name: 'c6' }), nn.batchNorm({ name: 'bn6' }), nn.relu(), nn.maxPool2d(2), nn.flatten(), nn.dense(3, { name: 'out' })], [1, 14, 14]],
    ['conv 5×5 same by Winograd F(2×2, 5×5), tanh, conv 3×5 by direct', () => [nn.conv2d(3, 5, { padding: 'same', algorithm: 'winograd', name: 'c7' }), nn.tanh(), nn.conv2d(4, [3, 5], { algorithm: 'direct', name: 'c8' }), nn.flatten(), nn.dense(3, { name: 'out' })], [2, 8, 10]],
    ['direct conv 5×5 same + ReLU + 2×2 max pool as a first layer: one kernel forward, the weight gradient from the pooled gradient', () => [nn.conv2d(3, 5, { padding: 'same', algorithm: 'direct', name: 'c9' }), nn.relu(), nn.maxPool2d(2), nn.flatten(), nn.dense(3, { name: 'out' })], [2, 6, 8]],
    ['dense, batch norm over features, dropout 0, dense', () => [nn.flatten(), nn.dense(7, { name: 'fc' }), nn.batchNorm({ name: 'bn2' }), nn.dropout(0), nn.tanh(), nn.dense(3, { name: 'out' })], [2, 3, 4]],
  ];
  it.each(nets)('%s: every gradient by finite differences', (_, specs, shape) => {
    const mark = k.mark();
    const m = sequential(specs(), { input: shape }).build(k, { loss: 'crossentropy', batchSize: 6, seed: 1 });
    const n = 6;
    checkGradients(m, [rand(n * shape.reduce((a, b) => a * b, 1))], [Int32Array.from({ length: n }, (_, i) => i % 3)], n);
    m.dispose();
    k.release(mark);
  });

  it('a convolution without bias has no bias parameter; the 3×3 conv + batch norm pair is fused under both names', () => {
    const m = sequential(nets[2][1](), { input: [2, 7, 9] }).build(k, { loss: 'crossentropy', batchSize: 2 });
    expect(m.net.names()).toContain('c4.weight');
    expect(m.net.names()).not.toContain('c4.bias');
    m.dispose();
    const f = sequential(nets[3][1](), { input: [1, 14, 14] }).build(k, { loss: 'crossentropy', batchSize: 2 });
    expect(f.net.names()).toEqual(['c5.weight', 'c5.bias', 'c6.weight', 'c6.bias', 'bn6.weight', 'bn6.bias', 'out.weight', 'out.bias', 'bn6.running_mean', 'bn6.running_var']);
    f.dispose();
  });

  it('a direct convolution, ReLU and 2×2 max pool run as one layer under the three names, with the gradients of the three (im2col for the convolution)', () => {
    // behind another layer (an input gradient): the fused forward, then ReLU + pool's and the convolution's own backward passes;
    // against the same network unfused rather than finite differences, which a ReLU or max kink within h of some output upsets
    const net = (algorithm: 'direct' | 'im2col') => sequential([nn.conv2d(3, 1, { name: 'c10' }), nn.tanh(), nn.conv2d(4, 3, { padding: 'same', algorithm, name: 'c11' }), nn.relu(), nn.maxPool2d(2), nn.flatten(), nn.dense(3, { name: 'out' })], { input: [2, 4, 8] })
      .build(k, { loss: 'crossentropy', batchSize: 6, seed: 1 });
    const x = Float32Array.from(ref.randn(new Rng(4), 6 * 64)), y = Int32Array.from({ length: 6 }, (_, i) => i % 3);
    const grads = (['direct', 'im2col'] as const).map((a) => {
      const m = net(a);
      const labels = m.steps.map((s) => s.label);
      k.f32.set(x, m.inputPtr(0) >>> 2);
      k.i32.set(y, m.outputBuffers(0).target >>> 2);
      m.forwardBackward(6);
      const g = m.net.params.map((p) => m.net.readGrad(p.name));
      m.dispose();
      return { labels, g };
    });
    expect(grads[0].labels).toEqual(['c10', expect.stringMatching(/^tanh/), expect.stringMatching(/^c11 \+ relu_\d+ \+ max_pool2d_\d+$/), expect.stringMatching(/^flatten/), 'out']);
    expect(grads[1].labels).toEqual(['c10', expect.stringMatching(/^tanh/), 'c11', expect.stringMatching(/^relu_\d+ \+ max_pool2d_\d+$/), expect.stringMatching(/^flatten/), 'out']);
    grads[0].g.forEach((g, i) => expect(ref.relErr(g, grads[1].g[i]), `parameter ${i}`).toBeLessThan(1e-5));
  });

  it('a layer applied twice shares its weights (gradients add up); a tensor read by two layers sums both gradients', () => {
    const mark = k.mark();
    const a = input([6], { name: 'a' }), b = input([6], { name: 'b' });
    const shared = nn.dense(4, { name: 'shared' });
    const ha = shared.apply(a), hb = shared.apply(b);
    const s = nn.sigmoid().apply(ha), t = nn.tanh().apply(ha); // ha feeds two layers that cannot accumulate
    const joined = concat([nn.relu().apply(concat([s, t])), nn.relu().apply(concat([hb, hb]))]);
    const m = model({ inputs: [a, b], outputs: [nn.dense(2, { name: 'out' }).apply(joined), nn.dense(1, { name: 'aux' }).apply(hb)] });
    expect(m.summary()).toMatch(/shared\s+dense\s+\[4\]\s+shared/);
    m.build(k, { loss: ['mse', { loss: 'bce', weight: 0.5 }], batchSize: 4, seed: 2 });
    expect(m.net.params.filter((p) => p.name.startsWith('shared'))).toHaveLength(2);
    const n = 4;
    checkGradients(m, [rand(n * 6), rand(n * 6)], [rand(n * 2), Float32Array.from({ length: n }, (_, i) => i % 2)], n);
    m.dispose();
    k.release(mark);
  });

  it('stack runs one pass over both inputs: batch norm statistics over both, outputs in two parts', () => {
    const mark = k.mark();
    const a = input([3]), b = input([3]);
    const both = chain([nn.dense(5, { name: 'fc' }), nn.batchNorm({ name: 'bn' }), nn.relu()], stack([a, b]));
    expect(both.parts).toBe(2);
    // cls reads `both` before the concat does: in backward the concat writes the gradient, cls's dense adds to it
    const cls = nn.dense(4, { name: 'cls' }).apply(both);
    const out = nn.dense(2, { name: 'out' }).apply(concat(unstack(both) as [typeof both, typeof both]));
    const m = model({ inputs: [a, b], outputs: [out, cls] }).build(k, { loss: ['mse', 'crossentropy'], batchSize: 3, seed: 4 });
    const n = 3;
    checkGradients(m, [rand(n * 3), rand(n * 3)], [rand(n * 2), Int32Array.from([0, 1, 2, 3, 0, 1])], n);
    m.dispose();
    k.release(mark);
  });
});

describe('fit, evaluate, predict, save', () => {
  // A small task: which of 4 quadrants holds the brightest pixel of an 8×8 image.
  const task = (n: number, seed: number) => {
    const rng = new Rng(seed), x = new Float32Array(n * 64), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 64; j++) x[i * 64 + j] = rng.next() * 0.5;
      const q = rng.int(4), r = (q >> 1) * 4 + rng.int(4), c = (q & 1) * 4 + rng.int(4);
      x[i * 64 + r * 8 + c] = 3;
      y[i] = q;
    }
    return { x, y };
  };
  const net = () => sequential([nn.conv2d(4, 3, { padding: 'same', name: 'conv' }), nn.relu(), nn.maxPool2d(2), nn.flatten(), nn.dense(16, { name: 'fc' }), nn.relu(), nn.dense(4, { name: 'out' })], { input: [1, 8, 8] });

  it('learns, reports per-epoch history, and evaluate/predict agree with it; the same seed gives the same history', async () => {
    const train = task(600, 1), test = task(200, 2);
    const run = async (build: 'simd' | 'scalar') => {
      const m = await net().compile({ loss: 'crossentropy', optimizer: { type: 'adamw', lr: 3e-3, weightDecay: 1e-4 }, batchSize: 32, seed: 7, build });
      const seen: number[] = [];
      const h = await m.fit(train.x, train.y, { epochs: 6, validationData: [test.x, test.y], onEpoch: (e) => seen.push(e.epoch) });
      return { m, h, seen };
    };
    const { m, h, seen } = await run('simd');
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.epochs[5].loss).toBeLessThan(h.epochs[0].loss);
    expect(h.epochs[5].val!.accuracy[0]).toBeGreaterThan(0.9);
    const ev = m.evaluate(test.x, test.y);
    expect(ev.accuracy[0]).toBe(h.epochs[5].val!.accuracy[0]);
    expect(ev.loss).toBeCloseTo(h.epochs[5].val!.loss, 12);
    const [logits] = m.predict(test.x);
    let right = 0;
    for (let i = 0; i < 200; i++) {
      const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
      if (row.indexOf(Math.max(...row)) === test.y[i]) right++;
    }
    expect(right / 200).toBe(ev.accuracy[0]);
    const again = await run('simd'), scalar = await run('scalar');
    expect(again.h).toEqual(h); // same seed, same numbers
    expect(scalar.h).toEqual(h); // and the same on the scalar build
    // save and load into a fresh model: the same predictions
    const path = join(mkdtempSync(join(tmpdir(), 'simdnet-')), 'm.safetensors');
    await m.save(path);
    const fresh = await net().compile({ loss: 'crossentropy', batchSize: 8, seed: 99 });
    expect(fresh.predict(test.x)[0]).not.toEqual(logits);
    await fresh.load(path);
    expect(fresh.predict(test.x)[0]).toEqual(logits);
  });

  it('SGD with momentum and MSE regression train too; bad data gets a clear error', async () => {
    const rng = new Rng(5), n = 256, x = new Float32Array(n * 3), y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 3; j++) x[i * 3 + j] = rng.next() * 2 - 1;
      y[i] = 0.5 * x[i * 3] - x[i * 3 + 1] + 0.25;
    }
    const m = await sequential([nn.dense(8), nn.tanh(), nn.dense(1)], { input: [3] }).compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 }, batchSize: 16, seed: 3 });
    const h = await m.fit(x, y, { epochs: 20 });
    expect(h.epochs[19].loss).toBeLessThan(0.01 * h.epochs[0].loss + 0.005);
    expect(h.epochs[0].accuracy[0]).toBeNaN(); // no accuracy for a regression
    await expect(m.fit(x.subarray(1), y)).rejects.toThrow(/input 0 has 767 values; expected a positive multiple of \[3\] = 3/);
    await expect(m.fit(x, y.subarray(1))).rejects.toThrow(/target 0 has 255 values, expected 256 samples × 1 = 256/);
    await expect(m.fit(x, y, { batchSize: 17 })).rejects.toThrow(/batchSize must be 1 … 16/);
    const c = await net().compile({ loss: 'crossentropy', batchSize: 4 });
    await expect(c.fit(new Float32Array(128), [0, 4])).rejects.toThrow(/target 0\[1\] is 4: labels are integers 0 … 3/);
    await expect(sequential([nn.dense(2)], { input: [2] }).compile({ loss: 'bce', optimizer: { type: 'adam', lr: -1 } })).rejects.toThrow(/optimizer: lr must be a positive number/);
  });
});
