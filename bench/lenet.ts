// `npm run bench -- lenet`: one epoch of LeNet-5 (7000 digits of 28×28 in
// batches of 64 with Adam, then the 3000 test digits in evaluation mode) in
// simdnet (SIMD, one thread, the model API's fit) and in TensorFlow.js (wasm
// backend, SIMD, one thread; CPU backend timed on a few batches and scaled).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadMnist, ImageSet } from '../src/data.js';
import { loadKernels } from '../src/kernels.js';
import { Model, sequential, layers as nn } from '../src/nn.js';
import { collectGarbage, median, table } from './common.js';
import { TfLeNet, registerWasmConv2DBackpropFilter } from './tfjs-models.js';

const B = 64;

export const lenet5 = (): Model => sequential([
  nn.conv2d(6, 5, { padding: 'same', name: 'conv1' }), nn.relu(), nn.maxPool2d(2),
  nn.conv2d(16, 5, { name: 'conv2' }), nn.relu(), nn.maxPool2d(2),
  nn.flatten(), nn.dense(120, { name: 'fc1' }), nn.relu(), nn.dense(84, { name: 'fc2' }), nn.relu(), nn.dense(10, { name: 'fc3' }),
], { input: [1, 28, 28], name: 'lenet5' });

function tfBatches(set: ImageSet) {
  return Array.from({ length: Math.ceil(set.n / B) }, (_, i) => {
    const from = i * B, n = Math.min(B, set.n - from);
    return { x: tf.tensor4d(set.images.subarray(from * 784, (from + n) * 784), [n, 28, 28, 1]), y: tf.tensor1d(set.labels.subarray(from, from + n), 'int32') };
  });
}

/** Seconds of one TF.js epoch (or of `steps` steps and one test batch, scaled to an epoch). */
function tfEpoch(m: TfLeNet, train: ReturnType<typeof tfBatches>, test: ReturnType<typeof tfBatches>, steps?: number): number {
  const t0 = performance.now();
  const ts = steps ?? train.length;
  for (let i = 0; i < ts; i++) m.step(train[i].x, train[i].y);
  const t1 = performance.now();
  const es = steps ? 1 : test.length;
  for (let i = 0; i < es; i++) m.evaluate(test[i].x, test[i].y);
  const t2 = performance.now();
  return ((t1 - t0) * (train.length / ts) + (t2 - t1) * (test.length / es)) / 1000;
}

export async function benchLenet(opts: { epochs?: number; cpuSteps?: number; log?: (s: string) => void }) {
  const reps = opts.epochs ?? 5, cpuSteps = opts.cpuSteps ?? 2, log = opts.log ?? (() => {});
  const { train, test } = await loadMnist(0);
  const model = await lenet5().compile({ loss: 'crossentropy', optimizer: { type: 'adam', lr: 1e-3 }, batchSize: B, seed: 0, kernels: await loadKernels('simd') });
  const ours = async () => {
    const t0 = performance.now();
    await model.fit(train.images, train.labels, { epochs: 1, batchSize: B, validationData: [test.images, test.labels] });
    return (performance.now() - t0) / 1000;
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/');
  registerWasmConv2DBackpropFilter();
  await tf.setBackend('wasm');
  let tb = tfBatches(train), vb = tfBatches(test);
  let peer = new TfLeNet();
  peer.step(tb[0].x, tb[0].y); // warm-up: kernels, Adam slots
  await ours();
  const s: number[] = [], t: number[] = [], ratio: number[] = [];
  for (let r = 0; r < reps; r++) {
    // each timed epoch starts on a collected heap, so neither pays for the other's garbage (TF.js leaves much)
    collectGarbage();
    s.push(await ours());
    collectGarbage();
    t.push(tfEpoch(peer, tb, vb));
    ratio.push(t[r] / s[r]);
    log(`epoch pair ${r + 1}/${reps}: simdnet ${s[r].toFixed(3)} s, TF.js wasm ${t[r].toFixed(3)} s, ${ratio[r].toFixed(1)}×`);
  }
  const accuracy = model.evaluate(test.images, test.labels).accuracy[0];
  const peerRight = vb.reduce((n, b) => n + peer.evaluate(b.x, b.y), 0) / test.n;
  for (const b of [...tb, ...vb]) tf.dispose([b.x, b.y]);
  await tf.setBackend('cpu');
  tb = tfBatches(train);
  vb = tfBatches(test);
  peer = new TfLeNet();
  peer.step(tb[0].x, tb[0].y);
  const cpu = tfEpoch(peer, tb, vb, cpuSteps);
  log(`TF.js cpu: ${cpu.toFixed(2)} s/epoch (${cpuSteps} steps timed)`);
  const rows = [
    { runtime: 'simdnet (SIMD, 1 thread)', secondsPerEpoch: median(s), ratioToSimdnet: 1, testAccuracy: accuracy, note: `median of ${reps} epochs, alternating with TF.js wasm, each after a full GC` },
    { runtime: 'TF.js 4.22 wasm (SIMD, 1 thread)', secondsPerEpoch: median(t), ratioToSimdnet: median(ratio), testAccuracy: peerRight, note: `median of ${reps} epochs and of the paired ratios; Conv2DBackpropFilter built from wasm PadV2 + Conv2D + Transpose` },
    { runtime: 'TF.js 4.22 cpu (pure JS)', secondsPerEpoch: cpu, ratioToSimdnet: cpu / median(s), testAccuracy: NaN, note: `${cpuSteps} steps + 1 test batch timed, scaled to an epoch` },
  ];
  const text = table(['runtime', 's/epoch', '× simdnet', `test acc after ${reps + 1} epochs`, 'how measured'],
    rows.map((r) => [r.runtime, r.secondsPerEpoch.toFixed(3), r.ratioToSimdnet.toFixed(1) + '×', Number.isNaN(r.testAccuracy) ? '–' : (100 * r.testAccuracy).toFixed(2) + ' %', r.note]));
  return { settings: { network: 'LeNet-5 (conv 5×5 same 6, pool, conv 5×5 16, pool, 120, 84, 10)', train: train.n, test: test.n, batch: B, epochs: reps, cpuSteps, tfjs: tf.version.tfjs }, rows, text };
}
