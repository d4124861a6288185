// `npm run bench -- peers`: one epoch of models 2 and 4 (1000 training pairs
// in batches of 100 with Adam, then 1000 test pairs in evaluation mode) in
// simdnet (SIMD, one thread) and in TensorFlow.js (wasm backend, SIMD, one
// thread; CPU backend, timed on a few batches and scaled to an epoch).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { drawRound, loadDigits, RoundData } from '../src/data.js';
import { IMAGE } from '../src/models.js';
import { trainRound, sharedKernels } from '../src/train.js';
import { median, table } from './common.js';
import { TfModel, registerWasmConv2DBackpropFilter } from './tfjs-models.js';

const B = 100;

interface Row { model: 2 | 4; runtime: string; secondsPerEpoch: number; note: string }

function tfBatches(data: RoundData) {
  const mk = (set: RoundData['train'], from: number, n: number) => {
    const x = new Float32Array(2 * n * IMAGE);
    x.set(set.x0.subarray(from * IMAGE, (from + n) * IMAGE), 0);
    x.set(set.x1.subarray(from * IMAGE, (from + n) * IMAGE), n * IMAGE);
    const classes = new Int32Array(2 * n);
    classes.set(set.c0.subarray(from, from + n), 0);
    classes.set(set.c1.subarray(from, from + n), n);
    return { x: tf.tensor4d(x, [2 * n, 14, 14, 1]), target: tf.tensor1d(set.target.subarray(from, from + n)), classes: tf.tensor1d(classes, 'int32') };
  };
  const train = Array.from({ length: data.train.n / B }, (_, i) => mk(data.train, i * B, B));
  const test = Array.from({ length: data.test.n / B }, (_, i) => mk(data.test, i * B, B));
  return { train, test };
}

/** Seconds per epoch in TensorFlow.js; with `sampleSteps`, times that many steps and one eval batch and scales. */
async function tfEpoch(model: 2 | 4, data: RoundData, epochs: number, sampleSteps?: number): Promise<number> {
  const { train, test } = tfBatches(data);
  const m = new TfModel(model);
  m.step(train[0].x, train[0].target, train[0].classes); // warm-up: kernels, Adam slots
  if (sampleSteps) {
    const t0 = performance.now();
    for (let i = 0; i < sampleSteps; i++) m.step(train[i].x, train[i].target, train[i].classes);
    const tStep = (performance.now() - t0) / 1000 / sampleSteps;
    const t1 = performance.now();
    m.evaluate(test[0].x, test[0].target);
    const tEval = (performance.now() - t1) / 1000;
    return train.length * tStep + test.length * tEval;
  }
  const times: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    for (const b of train) m.step(b.x, b.target, b.classes);
    let right = 0;
    for (const b of test) right += m.evaluate(b.x, b.target);
    times.push((performance.now() - t0) / 1000);
    void right;
  }
  for (const b of [...train, ...test]) tf.dispose([b.x, b.target, b.classes]);
  return median(times);
}

async function simdnetEpoch(model: 2 | 4, epochs: number): Promise<number> {
  const kernels = await sharedKernels('simd');
  const stamps: number[] = [];
  await trainRound({ model, seed: 0, epochs: epochs + 1, kernels, onEpoch: () => stamps.push(performance.now()) });
  const times = stamps.slice(1).map((t, i) => (t - stamps[i]) / 1000); // the first epoch is warm-up
  return median(times);
}

export async function benchPeers(opts: { epochs?: number; cpuSteps?: number; log?: (s: string) => void }) {
  const epochs = opts.epochs ?? 3, cpuSteps = opts.cpuSteps ?? 2, log = opts.log ?? (() => {});
  const data = drawRound(await loadDigits(), 0, 1000);
  const rows: Row[] = [];
  for (const model of [2, 4] as const) {
    rows.push({ model, runtime: 'simdnet (SIMD, 1 thread)', secondsPerEpoch: await simdnetEpoch(model, epochs), note: `median of ${epochs} epochs` });
    log(`simdnet model ${model}: ${rows[rows.length - 1].secondsPerEpoch.toFixed(3)} s/epoch`);
  }
  // TensorFlow.js wasm backend, SIMD, one thread (Node runs it single-threaded anyway).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/';
  setWasmPaths(wasmDir);
  registerWasmConv2DBackpropFilter();
  await tf.setBackend('wasm');
  for (const model of [2, 4] as const) {
    rows.push({ model, runtime: 'TF.js 4.22 wasm (SIMD, 1 thread)', secondsPerEpoch: await tfEpoch(model, data, epochs), note: `median of ${epochs} epochs; Conv2DBackpropFilter built from wasm Conv2D + Transpose (missing in wasm)` });
    log(`tfjs wasm model ${model}: ${rows[rows.length - 1].secondsPerEpoch.toFixed(3)} s/epoch`);
  }
  await tf.setBackend('cpu');
  for (const model of [2, 4] as const) {
    rows.push({ model, runtime: 'TF.js 4.22 cpu (pure JS)', secondsPerEpoch: await tfEpoch(model, data, 1, cpuSteps), note: `${cpuSteps} steps + 1 eval batch timed, scaled to an epoch` });
    log(`tfjs cpu model ${model}: ${rows[rows.length - 1].secondsPerEpoch.toFixed(3)} s/epoch`);
  }
  const ours = (m: number) => rows.find((r) => r.model === m && r.runtime.startsWith('simdnet'))!.secondsPerEpoch;
  const text = table(
    ['model', 'runtime', 's/epoch', '× simdnet', 'how measured'],
    rows.map((r) => [String(r.model), r.runtime, r.secondsPerEpoch.toFixed(3), (r.secondsPerEpoch / ours(r.model)).toFixed(1) + '×', r.note]),
  );
  return { settings: { pairs: 1000, batch: B, epochs, cpuSteps, tfjs: tf.version.tfjs }, rows: rows.map((r) => ({ ...r, ratioToSimdnet: r.secondsPerEpoch / ours(r.model) })), text };
}
