// The networks as a whole: every parameter's gradient against finite
// differences, training behaviour, batch-norm modes, data, and safetensors.
import { mkdtempSync, writeFileSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Kernels, loadKernels } from '../src/kernels.js';
import { PairModel, ModelId, IMAGE } from '../src/models.js';
import { drawRound, loadDigits, DigitPool } from '../src/data.js';
import { trainRound } from '../src/train.js';
import { decodeSafetensors } from '../src/safetensors.js';
import { Rng } from '../src/prng.js';
import * as ref from './reference.js';

let k: Kernels;
let pool: DigitPool;
beforeAll(async () => {
  k = await loadKernels('simd');
  pool = await loadDigits();
});

/** A small batch of real pairs from a round's training set. */
function batchOf(seed: number, n: number) {
  const { train } = drawRound(pool, seed, 50);
  const input = new Float32Array(n * 2 * IMAGE), classes: number[] = [];
  for (let b = 0; b < n; b++) {
    input.set(train.x0.subarray(b * IMAGE, (b + 1) * IMAGE), (2 * b) * IMAGE);
    input.set(train.x1.subarray(b * IMAGE, (b + 1) * IMAGE), (2 * b + 1) * IMAGE);
    classes.push(train.c0[b], train.c1[b]);
  }
  return { input, target: Array.from(train.target.subarray(0, n)), classes };
}

describe.each([1, 2, 3, 4] as ModelId[])('model %i', (id) => {
  it('every parameter tensor: gradient against central finite differences of a float64 model', () => {
    const mark = k.mark();
    const n = 4;
    const model = new PairModel(k, id, n, 11);
    const net = model.net;
    const b = batchOf(3, n);
    model.setBatch(b.input, b.target, b.classes);
    const parts = model.forwardBackward(n);

    const P: ref.Params = new Map(net.params.map((p) => [p.name, Float64Array.from(net.read(p.name))]));
    const x0 = new Float64Array(n * IMAGE), x1 = new Float64Array(n * IMAGE);
    for (let i = 0; i < n; i++) {
      x0.set(b.input.subarray(2 * i * IMAGE, (2 * i + 1) * IMAGE), i * IMAGE);
      x1.set(b.input.subarray((2 * i + 1) * IMAGE, (2 * i + 2) * IMAGE), i * IMAGE);
    }
    const loss = () => ref.modelLossRef(id, P, x0, x1, Float64Array.from(b.target), b.classes, n);
    expect(loss()).toBeCloseTo(parts.loss, 5); // the float64 model is the same network
    const rng = new Rng(5);
    for (const p of net.params) {
      const g = net.readGrad(p.name);
      const gmax = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (gmax < 1e-6) continue; // biases before batch norm: zero gradient (golden.test checks them)
      // the largest entry and three random ones
      const top = [...g.keys()].reduce((a, i) => (Math.abs(g[i]) > Math.abs(g[a]) ? i : a), 0);
      const entries = [top, rng.int(g.length), rng.int(g.length), rng.int(g.length)];
      const num = ref.numericGrad(() => loss(), P.get(p.name)!, 1e-6, entries);
      for (const i of entries) expect(Math.abs(g[i] - num[i]) / gmax, `${p.name}[${i}]`).toBeLessThan(1e-3);
    }
    k.release(mark);
  });

  it('the loss falls over a few steps, and the same seed gives identical curves', async () => {
    const a = await trainRound({ model: id, seed: 4, epochs: 3, pairs: 200, kernels: k });
    const b = await trainRound({ model: id, seed: 4, epochs: 3, pairs: 200, kernels: k });
    expect(a.records).toEqual(b.records);
    expect(a.records[2].trainLoss).toBeLessThan(a.records[0].trainLoss);
    expect(a.records.every((r) => r.testAccuracy > 0 && r.testAccuracy <= 1)).toBe(true);
    expect(a.records[0].testDigitAccuracy === undefined).toBe(id <= 2);
  });
});

describe('batch norm modes (model 4)', () => {
  it('training uses batch statistics, evaluation the running statistics', () => {
    const mark = k.mark();
    const n = 5, model = new PairModel(k, 4, n, 1), net = model.net;
    const b = batchOf(2, n);
    model.setBatch(b.input, b.target, b.classes);
    model.forward(n, true);
    const train1 = k.read(model.logits.ptr, n);
    const rm = net.read('head.bn1.running_mean');
    model.forward(n, true);
    expect(k.read(model.logits.ptr, n)).toEqual(train1); // same batch statistics
    expect(net.read('head.bn1.running_mean')).not.toEqual(rm); // running statistics moved
    model.forward(n, false);
    const eval1 = k.read(model.logits.ptr, n);
    expect(eval1).not.toEqual(train1);
    // Evaluation follows the running statistics: shift one and the output moves; training does not.
    net.write('trunk.bn2.running_mean', net.read('trunk.bn2.running_mean').map((v) => v + 0.5));
    model.forward(n, false);
    expect(k.read(model.logits.ptr, n)).not.toEqual(eval1);
    model.forward(n, true);
    expect(k.read(model.logits.ptr, n)).toEqual(train1);
    k.release(mark);
  });
});

describe('data', () => {
  it('splits each class 70/30 into disjoint pools of 6995 and 3005 digits', () => {
    expect(pool.train.length).toBe(6995);
    expect(pool.test.length).toBe(3005);
    const train = new Set(pool.train);
    expect(pool.test.some((i) => train.has(i))).toBe(false);
    expect(new Set([...pool.train, ...pool.test]).size).toBe(10000);
  });

  it('draws distinct images per set, targets follow digit0 > digit1, normalised by training statistics', () => {
    const r = drawRound(pool, 7, 1000);
    for (const s of [r.train, r.test]) {
      for (let i = 0; i < s.n; i++) expect(s.target[i]).toBe(s.c0[i] > s.c1[i] ? 1 : 0);
      const seen = new Set<string>();
      for (let i = 0; i < s.n; i++) for (const x of [s.x0, s.x1]) seen.add(x.subarray(i * IMAGE, (i + 1) * IMAGE).join());
      expect(seen.size).toBeGreaterThan(2 * s.n - 5); // distinct draws (a few digits of the set may look identical)
    }
    let sum = 0, sq = 0;
    const all = [...r.train.x0, ...r.train.x1];
    for (const v of all) sum += v;
    for (const v of all) sq += (v - sum / all.length) ** 2;
    expect(Math.abs(sum / all.length)).toBeLessThan(1e-5);
    expect(Math.sqrt(sq / (all.length - 1))).toBeCloseTo(1, 4);
    expect(drawRound(pool, 7, 1000).train.x0).toEqual(r.train.x0); // same seed, same data
    expect(drawRound(pool, 8, 1000).train.x0).not.toEqual(r.train.x0);
  });
});

describe('safetensors', () => {
  it('a round trip gives back identical weights and buffers; bad files get a clear error', async () => {
    const mark = k.mark();
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-'));
    const a = new PairModel(k, 4, 4, 1), b = new PairModel(k, 4, 4, 2);
    const batch = batchOf(1, 4);
    a.setBatch(batch.input, batch.target, batch.classes);
    a.trainStep(4);
    await a.save(join(dir, 'm.safetensors'));
    expect(b.net.read('head.fc1.weight')).not.toEqual(a.net.read('head.fc1.weight'));
    await b.load(join(dir, 'm.safetensors'));
    for (const name of a.net.names()) expect(b.net.read(name), name).toEqual(a.net.read(name));

    const bytes = readFileSync(join(dir, 'm.safetensors'));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata.model).toBe('4');
    expect(tensors.get('trunk.conv2.weight')!.shape).toEqual([64, 32, 3, 3]);
    expect(tensors.get('trunk.bn1.num_batches_tracked')!.data[0]).toBe(1n);
    expect((8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))) % 8).toBe(0);

    writeFileSync(join(dir, 'bad.safetensors'), bytes.subarray(0, 100));
    await expect(b.load(join(dir, 'bad.safetensors'))).rejects.toThrow(/not a valid safetensors file/);
    const m2 = new PairModel(k, 2, 4, 1);
    await expect(m2.load(join(dir, 'm.safetensors'))).rejects.toThrow(/does not fit this model/);
    k.release(mark);
  });
});

describe('the library refuses what it cannot compute', () => {
  it('a batch count outside 1 … batch throws before any kernel runs, and the weights stay as they were', () => {
    const mark = k.mark();
    for (const id of [2, 4] as ModelId[]) {
      const m = new PairModel(k, id, 4, 1);
      const batch = batchOf(1, 4);
      m.setBatch(batch.input, batch.target, batch.classes);
      const before = m.net.names().map((n) => m.net.read(n));
      for (const n of [0, -1, 5, 2.5, NaN]) {
        expect(() => m.forward(n, true), `model ${id} n=${n}`).toThrow(/a batch of .* samples; this model holds 1 … 4/);
        expect(() => m.forwardBackward(n)).toThrow(RangeError);
        expect(() => m.trainStep(n)).toThrow(RangeError);
      }
      expect(m.net.names().map((n) => m.net.read(n))).toEqual(before);
      expect(m.trainStep(4).loss).toBeGreaterThan(0); // still usable
    }
    k.release(mark);
  });

  it('setBatch rejects digit classes outside 0 … 9, non-integer classes and targets that are not 0 or 1', () => {
    const mark = k.mark();
    const m = new PairModel(k, 3, 2, 1);
    const { input, target, classes } = batchOf(1, 2);
    for (const bad of [10, -1, 2.5, NaN]) {
      const c = Array.from(classes);
      c[3] = bad;
      expect(() => m.setBatch(input, target, c)).toThrow(/target 1\[3\] is .*: labels are integers 0 … 9/);
    }
    expect(() => m.setBatch(input, [0, 2], classes)).toThrow(/target 0\[1\] is 2: bce targets are in \[0, 1\]/);
    expect(m.setBatch(input, target, classes)).toBe(2);
    k.release(mark);
  });

  it('a batch too big for wasm memory says so with the limit, at once, and the kernels stay usable', () => {
    const mark = k.mark();
    const t0 = performance.now();
    expect(() => new PairModel(k, 2, 3_000_000, 0)).toThrow(/more than WebAssembly's 4\.00 GiB memory limit: use a smaller batch/);
    expect(performance.now() - t0).toBeLessThan(10_000); // no training, no multi-GiB fill before the refusal
    k.release(mark);
    const m = new PairModel(k, 2, 2, 0);
    const { input, target } = batchOf(1, 2);
    m.setBatch(input, target);
    expect(Number.isFinite(m.trainStep(2).loss)).toBe(true);
    k.release(mark);
  });

  it('safetensors: malformed headers and overlapping data get an Error naming the file and the tensor', () => {
    const file = (header: unknown, dataBytes = 16) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const t = (off: [number, number], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: off });
    const bad: [unknown, RegExp][] = [
      [[1, 2], /header is not a JSON object/],
      [null, /header is not a JSON object/],
      [{ w: 3 }, /tensor "w" is not an object/],
      [{ w: { shape: [2], data_offsets: [0, 8] } }, /tensor "w" has no dtype/],
      [{ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, /tensor "w": dtype F16 is not supported/],
      [{ w: { dtype: 'F32', shape: 'x', data_offsets: [0, 8] } }, /tensor "w": shape "x" is not a list of sizes/],
      [{ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, /tensor "w": shape \[-2\]/],
      [{ w: { dtype: 'F32', shape: [2] } }, /tensor "w": data_offsets undefined is not \[begin, end\]/],
      [{ w: t([8, 0]) }, /tensor "w": data_offsets \[8,0\] is not \[begin, end\]/],
      [{ w: t([0, 12]) }, /tensor "w": data_offsets \[0, 12\] hold 12 bytes, shape \[2\] of F32 needs 8/],
      [{ w: t([16, 24]) }, /tensor "w": data_offsets \[16, 24\] run past the end/],
      [{ a: t([0, 8]), b: t([4, 12]) }, /tensor "b" \[4, 12\] overlaps tensor "a" \[0, 8\]/],
      [{ __metadata__: { a: 1 } }, /__metadata__ is not an object of strings/],
    ];
    for (const [header, message] of bad) {
      expect(() => decodeSafetensors(file(header), 'w.safetensors'), JSON.stringify(header)).toThrow(message);
      expect(() => decodeSafetensors(file(header), 'w.safetensors')).toThrow(/^w\.safetensors: not a valid safetensors file/);
    }
    const ok = decodeSafetensors(file({ a: t([0, 8]), b: t([8, 16]), __metadata__: { x: 'y' } }), 'w.safetensors');
    expect([...ok.tensors.keys()]).toEqual(['a', 'b']);
  });

  it('an atomic write that fails names the real path, not its temporary file, and keeps the old file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-'));
    const path = join(dir, 'w.safetensors');
    writeFileSync(path, 'old');
    symlinkSync('/dev/full', `${path}.${process.pid}.tmp`); // the temporary file lands on a full device
    const mark = k.mark();
    const m = new PairModel(k, 2, 2, 0);
    const err = await m.save(path).then(() => null, (e: Error) => e);
    k.release(mark);
    expect(err?.message).toBe(`cannot write ${path}: ENOSPC (no space left on device)`);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });
});

describe('builds', () => {
  it.each([1, 4] as ModelId[])('model %i: the scalar build trains to the same curves as the SIMD build', async (id) => {
    const scalar = await loadKernels('scalar');
    const a = await trainRound({ model: id, seed: 9, epochs: 2, pairs: 150, kernels: k });
    const b = await trainRound({ model: id, seed: 9, epochs: 2, pairs: 150, kernels: scalar });
    // every kernel sums in the same order in both builds, so the curves agree bit for bit
    expect(b.records).toEqual(a.records);
    expect([a.build, b.build]).toEqual(['simd', 'scalar']);
  });
});

