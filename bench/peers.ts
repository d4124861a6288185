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

interface Row { model: 2 | 4; runtime: string; secondsPerEpoch: number; ratio: number; note: string }

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

/** A TensorFlow.js model on one round's batches, after one warm-up step (kernels, Adam slots). */
function tfRunner(model: 2 | 4, data: RoundData) {
  const { train, test } = tfBatches(data);
  const m = new TfModel(model);
  m.step(train[0].x, train[0].target, train[0].classes);
  return {
    /** Seconds for one epoch; with `sampleSteps`, times that many steps and one eval batch and scales. */
    epoch(sampleSteps?: number): number {
      if (sampleSteps) {
        const t0 = performance.now();
        for (let i = 0; i < sampleSteps; i++) m.step(train[i].x, train[i].target, train[i].classes);
        const tStep = (performance.now() - t0) / 1000 / sampleSteps;
        const t1 = performance.now();
        m.evaluate(test[0].x, test[0].target);
        const tEval = (performance.now() - t1) / 1000;
        return train.length * tStep + test.length * tEval;
      }
      const t0 = performance.now();
      for (const b of train) m.step(b.x, b.target, b.classes);
      for (const b of test) m.evaluate(b.x, b.target);
      return (performance.now() - t0) / 1000;
    },
    dispose: () => { for (const b of [...train, ...test]) tf.dispose([b.x, b.target, b.classes]); },
  };
}

/** Seconds of simdnet's second epoch of a fresh round (the first warms up caches and the model). */
async function simdnetEpoch(model: 2 | 4): Promise<number> {
  const kernels = await sharedKernels('simd');
  const stamps: number[] = [];
  (await trainRound({ model, seed: 0, epochs: 2, kernels, onEpoch: () => stamps.push(performance.now()) })).network.model.dispose();
  return (stamps[1] - stamps[0]) / 1000;
}

export async function benchPeers(opts: { epochs?: number; cpuSteps?: number; log?: (s: string) => void }) {
  const reps = opts.epochs ?? 5, cpuSteps = opts.cpuSteps ?? 2, log = opts.log ?? (() => {});
  const data = drawRound(await loadDigits(), 0, 1000);
  const rows: Row[] = [];
  // TensorFlow.js wasm backend, SIMD, one thread (Node runs it single-threaded anyway).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/';
  setWasmPaths(wasmDir);
  registerWasmConv2DBackpropFilter();
  await tf.setBackend('wasm');
  // The machine is shared and its speed drifts: alternate one simdnet epoch with one
  // TF.js epoch, and take the median of the paired ratios as well as of each runtime.
  const ours = new Map<number, number>();
  for (const model of [2, 4] as const) {
    const peer = tfRunner(model, data);
    await simdnetEpoch(model); // warm-up
    const s: number[] = [], t: number[] = [], ratio: number[] = [];
    for (let r = 0; r < reps; r++) {
      s.push(await simdnetEpoch(model));
      t.push(peer.epoch());
      ratio.push(t[r] / s[r]);
      log(`model ${model}, epoch pair ${r + 1}/${reps}: simdnet ${s[r].toFixed(3)} s, TF.js wasm ${t[r].toFixed(3)} s, ${ratio[r].toFixed(1)}×`);
    }
    peer.dispose();
    ours.set(model, median(s));
    rows.push({ model, runtime: 'simdnet (SIMD, 1 thread)', secondsPerEpoch: median(s), ratio: 1, note: `median of ${reps} epochs, alternating with TF.js wasm` });
    rows.push({
      model, runtime: 'TF.js 4.22 wasm (SIMD, 1 thread)', secondsPerEpoch: median(t), ratio: median(ratio),
      note: `median of ${reps} epochs and of the ${reps} paired ratios; Conv2DBackpropFilter built from wasm Conv2D + Transpose (missing in wasm)`,
    });
  }
  await tf.setBackend('cpu');
  for (const model of [2, 4] as const) {
    const peer = tfRunner(model, data);
    const sec = peer.epoch(cpuSteps);
    peer.dispose();
    rows.push({ model, runtime: 'TF.js 4.22 cpu (pure JS)', secondsPerEpoch: sec, ratio: sec / ours.get(model)!, note: `${cpuSteps} steps + 1 eval batch timed, scaled to an epoch; ratio to simdnet's median` });
    log(`tfjs cpu model ${model}: ${sec.toFixed(3)} s/epoch`);
  }
  rows.sort((a, b) => a.model - b.model);
  const text = table(
    ['model', 'runtime', 's/epoch', '× simdnet', 'how measured'],
    rows.map((r) => [String(r.model), r.runtime, r.secondsPerEpoch.toFixed(3), r.ratio.toFixed(1) + '×', r.note]),
  );
  return { settings: { pairs: 1000, batch: B, epochs: reps, cpuSteps, tfjs: tf.version.tfjs }, rows: rows.map(({ ratio, ...r }) => ({ ...r, ratioToSimdnet: ratio })), text };
}
