// `npm run bench -- profile --model N|lenet`: where one training step and one
// evaluation pass spend their time, per runtime layer and per wasm kernel
// (every export of the kernels wrapped with a timer), the share outside wasm,
// and a whole epoch of fit against the steps it is made of.
import { loadKernels, Kernels } from '../src/kernels.js';
import { PairModel, ModelId } from '../src/models.js';
import { drawRound, loadDigits, loadMnist } from '../src/data.js';
import { Model, Data } from '../src/nn.js';
import { table } from './common.js';
import { lenet5 } from './lenet.js';

interface Stat { calls: number; ms: number }

/** Wraps every kernel export with a timer; returns the running totals. */
function instrument(k: Kernels): Map<string, Stat> {
  const stats = new Map<string, Stat>();
  const inner = k.k as unknown as Record<string, unknown>;
  const wrapped = new Map<string, unknown>();
  const proxy = new Proxy(inner, {
    get(target, name: string) {
      const v = target[name];
      if (typeof v !== 'function') return v;
      let w = wrapped.get(name);
      if (!w) {
        const s: Stat = { calls: 0, ms: 0 };
        stats.set(name, s);
        w = (...args: unknown[]) => {
          const t0 = performance.now();
          const r = (v as (...a: unknown[]) => unknown).apply(target, args);
          s.ms += performance.now() - t0;
          s.calls++;
          return r;
        };
        wrapped.set(name, w);
      }
      return w;
    },
  });
  Object.defineProperty(k, 'k', { value: proxy });
  return stats;
}

/** Times each runtime layer's forward and backward. */
function timeLayers(m: Model): Map<string, { fwd: number; bwd: number }> {
  const t = new Map<string, { fwd: number; bwd: number }>();
  m.steps.forEach((s, i) => {
    const key = `${String(i).padStart(2, '0')} ${s.label}`, e = { fwd: 0, bwd: 0 };
    t.set(key, e);
    const l = s.layer as { forward(n: number, train: boolean): void; backward(n: number): void };
    const f = l.forward.bind(l), b = l.backward.bind(l);
    l.forward = (n, train) => { const t0 = performance.now(); f(n, train); e.fwd += performance.now() - t0; };
    l.backward = (n) => { const t0 = performance.now(); b(n); e.bwd += performance.now() - t0; };
  });
  return t;
}

export async function benchProfile(opts: { model: string; steps?: number; threads?: number; log?: (s: string) => void }) {
  const steps = opts.steps ?? 30;
  const k = await loadKernels('simd', { threads: opts.threads ?? 1 });
  let model: Model, n: number, x: Data[], y: Data[], vx: Data[], vy: Data[];
  if (opts.model === 'lenet') {
    const { train, test } = await loadMnist(0);
    model = lenet5().build(k, { loss: 'crossentropy', batchSize: 64, seed: 0 });
    n = 64;
    [x, y, vx, vy] = [[train.images], [train.labels], [test.images], [test.labels]];
  } else {
    const id = Number(opts.model) as ModelId;
    if (![1, 2, 3, 4].includes(id)) throw new Error(`--model: 1, 2, 3, 4 or lenet, got "${opts.model}"`);
    const pm = new PairModel(k, id, 100, 0);
    model = pm.model;
    n = 100;
    const d = drawRound(await loadDigits(), 0, 1000);
    const cls = (s: typeof d.train) => Int32Array.from({ length: 2 * s.n }, (_, i) => (i % 2 ? s.c1 : s.c0)[i >> 1]);
    [x, y, vx, vy] = [[d.train.x0, d.train.x1], id >= 3 ? [d.train.target, cls(d.train)] : [d.train.target], [d.test.x0, d.test.x1], id >= 3 ? [d.test.target, cls(d.test)] : [d.test.target]];
  }
  // a whole epoch of fit (warm-up, then timed) before the kernels are wrapped
  await model.fit(x, y, { epochs: 1, validationData: [vx, vy] });
  let t0 = performance.now();
  await model.fit(x, y, { epochs: 1, validationData: [vx, vy] });
  const epochMs = performance.now() - t0;
  const trainSteps = Math.ceil((x[0].length / (model.inputs[0].shape.reduce((a, b) => a * b, 1))) / n);
  const evalPasses = Math.ceil((vx[0].length / (model.inputs[0].shape.reduce((a, b) => a * b, 1))) / n);
  // one batch in place, then the same step over and over
  const per = model.inputs.map((t) => t.shape.reduce((a, b) => a * b, 1));
  model.setBatch(x.map((a, i) => (a as Float32Array).subarray(0, n * per[i])), y.map((a, i) => (a as Float32Array).subarray(0, (a.length / (x[0].length / per[0])) * n)));
  for (let i = 0; i < 5; i++) model.trainStep(n);
  const stats = instrument(k), layers = timeLayers(model);
  t0 = performance.now();
  for (let i = 0; i < steps; i++) model.trainStep(n);
  const stepMs = (performance.now() - t0) / steps;
  const trainKernels = new Map([...stats].map(([name, s]) => [name, { ...s }]));
  const trainLayers = new Map([...layers].map(([name, l]) => [name, { ...l }]));
  for (const s of stats.values()) (s.calls = 0), (s.ms = 0);
  for (const l of layers.values()) (l.fwd = 0), (l.bwd = 0);
  t0 = performance.now();
  for (let i = 0; i < steps; i++) model.forward(n, false);
  const evalMs = (performance.now() - t0) / steps;
  const kernelMs = (m: Map<string, Stat>) => [...m.values()].reduce((a, s) => a + s.ms, 0) / steps;
  const layerRows = [...trainLayers].map(([name, l]) => ({ layer: name, trainForwardUs: 1000 * l.fwd / steps, backwardUs: 1000 * l.bwd / steps, evalForwardUs: 1000 * layers.get(name)!.fwd / steps }));
  const kernelRows = [...new Set([...trainKernels.keys(), ...stats.keys()])].map((name) => ({
    kernel: name, trainCalls: (trainKernels.get(name)?.calls ?? 0) / steps, trainUs: 1000 * (trainKernels.get(name)?.ms ?? 0) / steps,
    evalCalls: (stats.get(name)?.calls ?? 0) / steps, evalUs: 1000 * (stats.get(name)?.ms ?? 0) / steps,
  })).filter((r) => r.trainCalls || r.evalCalls).sort((a, b) => b.trainUs - a.trainUs);
  const summary = {
    model: opts.model, batch: n, trainStepUs: 1000 * stepMs, trainKernelUs: 1000 * kernelMs(trainKernels), trainOutsideWasmShare: 1 - kernelMs(trainKernels) / stepMs,
    evalPassUs: 1000 * evalMs, evalKernelUs: 1000 * kernelMs(stats), evalOutsideWasmShare: 1 - kernelMs(stats) / evalMs,
    epochMs, trainSteps, evalPasses, epochOutsideStepsShare: 1 - (trainSteps * stepMs + evalPasses * evalMs) / epochMs,
  };
  const text = [
    table(['layer (forward order)', 'train fwd µs', 'bwd µs', 'eval fwd µs'], layerRows.map((r) => [r.layer, r.trainForwardUs.toFixed(0), r.backwardUs.toFixed(0), r.evalForwardUs.toFixed(0)])),
    '',
    table(['kernel', 'calls/step', 'µs/step', 'calls/eval', 'µs/eval'], kernelRows.map((r) => [r.kernel, r.trainCalls.toFixed(0), r.trainUs.toFixed(0), r.evalCalls.toFixed(0), r.evalUs.toFixed(0)])),
    '',
    `training step (batch ${n}): ${(1000 * stepMs).toFixed(0)} µs, of which wasm kernels ${(1000 * kernelMs(trainKernels)).toFixed(0)} µs: ${(100 * summary.trainOutsideWasmShare).toFixed(1)} % outside wasm`,
    `evaluation pass: ${(1000 * evalMs).toFixed(0)} µs, of which wasm kernels ${(1000 * kernelMs(stats)).toFixed(0)} µs: ${(100 * summary.evalOutsideWasmShare).toFixed(1)} % outside wasm`,
    `one epoch of fit: ${epochMs.toFixed(0)} ms = ${trainSteps} steps + ${evalPasses} evaluation passes (${(100 * (1 - summary.epochOutsideStepsShare)).toFixed(1)} %) + batch loading, accuracy and the rest (${(100 * summary.epochOutsideStepsShare).toFixed(1)} %)`,
  ].join('\n');
  return { settings: { model: opts.model, batch: n, steps, threads: opts.threads ?? 1, note: 'the same batch stepped repeatedly after 5 warm-up steps; every kernel export wrapped with performance.now() (about 0.1 µs a call); with threads, calls split over them are timed per layer only' }, rows: { summary, layers: layerRows, kernels: kernelRows }, text };
}
