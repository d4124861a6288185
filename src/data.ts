// The study's data (STUDY.md): the `mnist` package's 10,000 digits, pooled to
// 14×14, split per class 70/30, and per round 1000 training and 1000 test pairs
// drawn with a seeded PRNG, normalised with the round's training statistics.
// The digits come from build/digits14.bin and build/digits28.bin (made from the
// package's JSON at build time), read by URL: the same in Node, Deno and browsers.
import { Rng } from './prng.js';
import { loadAsset } from './asset.js';

/** Pixels of one pooled 14×14 digit. */
export const IMAGE = 14 * 14;

export interface DigitPool {
  /** All digits, 14×14 each, values in [0, 1]: [count, 196]. */
  images: Float32Array;
  labels: Uint8Array;
  /** Indices into images: the first ⌊0.7·n⌋ of each class, then the rest. */
  train: Int32Array;
  test: Int32Array;
}

export interface PairSet {
  n: number;
  /** First and second digit of each pair: [n, 196] each. */
  x0: Float32Array;
  x1: Float32Array;
  c0: Int32Array;
  c1: Int32Array;
  /** 1 if c0 > c1, else 0. */
  target: Float32Array;
}

export interface RoundData {
  train: PairSet;
  test: PairSet;
  /** Mean and standard deviation (n − 1) of the training pixels, used for both sets. */
  mean: number;
  std: number;
}

let cached: Promise<DigitPool> | null = null;

/** The digits of one asset: all of them in class order, `counts[c]` of class c. */
interface Digits {
  side: number;
  counts: number[];
  values: Float32Array;
}

/**
 * Reads build/digits14.bin (2×2-pooled) or build/digits28.bin: the `mnist`
 * package's 10,000 digits, per class in the package's order, as uint16 counts
 * of thousandths (scripts/build.mjs writes them). Decoded to exactly the floats
 * the package's JSON gives (a pooled pixel is the mean of four).
 */
async function readDigitAsset(side: 14 | 28): Promise<Digits> {
  const url = new URL(`../build/digits${side}.bin`, import.meta.url);
  const bytes = await loadAsset(url).catch((e: Error) => {
    throw new Error(`simdnet: cannot read the digits at ${url.href} (run "npm run build"): ${e.message}`);
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => {
    throw new Error(`${url.href}: not a digits asset (${why}); rebuild it with "npm run build"`);
  };
  if (bytes.length < 52 || new TextDecoder().decode(bytes.subarray(0, 4)) !== 'SNDG') bad('no SNDG header');
  if (view.getUint32(4, true) !== 1 || view.getUint32(8, true) !== side) bad('version or size');
  const counts = Array.from({ length: 10 }, (_, c) => view.getUint32(12 + 4 * c, true));
  const per = side * side, n = counts.reduce((a, b) => a + b, 0);
  if (bytes.length !== 52 + 2 * n * per) bad(`${bytes.length} bytes for ${n} digits`);
  const scale = side === 14 ? 4000 : 1000;
  const values = new Float32Array(n * per);
  for (let i = 0, o = 52; i < values.length; i++, o += 2) values[i] = view.getUint16(o, true) / scale;
  return { side, counts, values };
}

/** Loads the pooled digits once per process. */
export function loadDigits(): Promise<DigitPool> {
  cached ??= readDigits();
  return cached;
}

/** A labelled image set: images [n, 1, 28, 28] flat, labels [n]. */
export interface ImageSet {
  n: number;
  images: Float32Array;
  labels: Int32Array;
}

/**
 * The `mnist` package's 10,000 digits at full 28×28, split 70/30 by a seeded
 * shuffle (stream 1 of `seed`) and normalised with the training pixels' mean
 * and standard deviation: the data of `examples/lenet.mjs`.
 */
export async function loadMnist(seed = 0): Promise<{ train: ImageSet; test: ImageSet; mean: number; std: number }> {
  const d = await readDigitAsset(28);
  const labels = d.counts.flatMap((k, c) => Array<number>(k).fill(c));
  const order = Int32Array.from(labels.keys());
  new Rng(seed, 1).shuffle(order);
  const nTrain = Math.floor(0.7 * labels.length);
  const take = (from: number, to: number): ImageSet => {
    const n = to - from, images = new Float32Array(n * 784), ls = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const j = order[from + i];
      images.set(d.values.subarray(j * 784, (j + 1) * 784), i * 784);
      ls[i] = labels[j];
    }
    return { n, images, labels: ls };
  };
  const train = take(0, nTrain), test = take(nTrain, labels.length);
  let sum = 0;
  for (const v of train.images) sum += v;
  const mean = sum / train.images.length;
  let q = 0;
  for (const v of train.images) q += (v - mean) ** 2;
  const std = Math.sqrt(q / (train.images.length - 1));
  for (const set of [train, test]) for (let i = 0; i < set.images.length; i++) set.images[i] = (set.images[i] - mean) / std;
  return { train, test, mean, std };
}

async function readDigits(): Promise<DigitPool> {
  const d = await readDigitAsset(14);
  const labels = new Uint8Array(d.values.length / IMAGE);
  const train: number[] = [], test: number[] = [];
  let i = 0;
  d.counts.forEach((k, c) => {
    const nTrain = Math.floor(0.7 * k);
    for (let j = 0; j < k; j++, i++) {
      labels[i] = c;
      (j < nTrain ? train : test).push(i);
    }
  });
  return { images: d.values, labels, train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** Draws 2n distinct images from `from` and pairs them: the first n are digit 0, the next n digit 1. */
function drawPairs(pool: DigitPool, from: Int32Array, n: number, rng: Rng): PairSet {
  if (2 * n > from.length) throw new Error(`cannot draw ${n} pairs without reuse from a pool of ${from.length} digits`);
  const idx = Int32Array.from(from);
  for (let i = 0; i < 2 * n; i++) {
    const j = i + rng.int(idx.length - i); // partial Fisher–Yates
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const set: PairSet = {
    n, x0: new Float32Array(n * IMAGE), x1: new Float32Array(n * IMAGE),
    c0: new Int32Array(n), c1: new Int32Array(n), target: new Float32Array(n),
  };
  for (let p = 0; p < n; p++) {
    const a = idx[p], b = idx[n + p];
    set.x0.set(pool.images.subarray(a * IMAGE, (a + 1) * IMAGE), p * IMAGE);
    set.x1.set(pool.images.subarray(b * IMAGE, (b + 1) * IMAGE), p * IMAGE);
    set.c0[p] = pool.labels[a];
    set.c1[p] = pool.labels[b];
    set.target[p] = pool.labels[a] > pool.labels[b] ? 1 : 0;
  }
  return set;
}

/** One round's data for `seed`: the same for every model and every runtime. */
export function drawRound(pool: DigitPool, seed: number, pairs = 1000): RoundData {
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`pairs must be a positive integer, got ${pairs}`);
  const rng = new Rng(seed, 1);
  const train = drawPairs(pool, pool.train, pairs, rng);
  const test = drawPairs(pool, pool.test, pairs, rng);
  let s = 0;
  for (const x of [train.x0, train.x1]) for (let i = 0; i < x.length; i++) s += x[i];
  const count = 2 * pairs * IMAGE;
  const mean = s / count;
  let q = 0;
  for (const x of [train.x0, train.x1]) for (let i = 0; i < x.length; i++) q += (x[i] - mean) ** 2;
  const std = Math.sqrt(q / (count - 1));
  for (const set of [train, test])
    for (const x of [set.x0, set.x1]) for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean) / std;
  return { train, test, mean, std };
}
