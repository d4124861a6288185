// The study's data (STUDY.md): the `mnist` package's 10,000 digits, pooled to
// 14×14, split per class 70/30, and per round 1000 training and 1000 test pairs
// drawn with a seeded PRNG, normalised with the round's training statistics.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Rng } from './prng.js';

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
/**
 * The `mnist` package's digits as read: per class, 784 values per digit in
 * [0, 1], in the package's order. Not kept: as JavaScript numbers they take
 * about 60 MB, and each study worker needs only the pooled digits.
 */
async function readRaw(): Promise<number[][]> {
  const require = createRequire(import.meta.url);
  const perClass: number[][] = [];
  for (let c = 0; c < 10; c++) {
    const path = require.resolve(`mnist/src/digits/${c}.json`);
    const raw: number[] = JSON.parse(await readFile(path, 'utf8')).data;
    if (raw.length % 784 !== 0) throw new Error(`${path}: ${raw.length} values is not a whole number of 28×28 digits`);
    perClass.push(raw);
  }
  return perClass;
}

/** Loads and pools the digits once per process (about half a second). */
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
  const perClass = await readRaw();
  const all: { c: number; at: number }[] = [];
  perClass.forEach((raw, c) => {
    for (let at = 0; at < raw.length; at += 784) all.push({ c, at });
  });
  const order = Int32Array.from(all.keys());
  new Rng(seed, 1).shuffle(order);
  const nTrain = Math.floor(0.7 * all.length);
  const take = (from: number, to: number): ImageSet => {
    const n = to - from, images = new Float32Array(n * 784), labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const { c, at } = all[order[from + i]];
      for (let j = 0; j < 784; j++) images[i * 784 + j] = perClass[c][at + j];
      labels[i] = c;
    }
    return { n, images, labels };
  };
  const train = take(0, nTrain), test = take(nTrain, all.length);
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
  const perClass: Float32Array[][] = [];
  for (const raw of await readRaw()) {
    const digits: Float32Array[] = [];
    for (let s = 0; s < raw.length; s += 784) digits.push(pool2x2(raw, s));
    perClass.push(digits);
  }
  const count = perClass.reduce((s, d) => s + d.length, 0);
  const images = new Float32Array(count * IMAGE), labels = new Uint8Array(count);
  const train: number[] = [], test: number[] = [];
  let i = 0;
  for (let c = 0; c < 10; c++) {
    const nTrain = Math.floor(0.7 * perClass[c].length);
    perClass[c].forEach((img, j) => {
      images.set(img, i * IMAGE);
      labels[i] = c;
      (j < nTrain ? train : test).push(i);
      i++;
    });
  }
  return { images, labels, train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** 28×28 → 14×14 by 2×2 averaging. */
function pool2x2(raw: number[], start: number): Float32Array {
  const out = new Float32Array(IMAGE);
  for (let r = 0; r < 14; r++)
    for (let c = 0; c < 14; c++) {
      const a = start + 2 * r * 28 + 2 * c;
      out[r * 14 + c] = (raw[a] + raw[a + 1] + raw[a + 28] + raw[a + 29]) / 4;
    }
  return out;
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
