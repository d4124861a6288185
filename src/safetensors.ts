// Weights as safetensors (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header of {name: {dtype, shape,
// data_offsets}}, then the raw little-endian data. PyTorch's
// `safetensors.torch.load_file` reads what this writes, with STUDY.md's names.
import type { Net } from './layers.js';
import { hasNodeModules, nodeModule } from './asset.js';

export interface TensorEntry {
  dtype: 'F32' | 'I64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/** Encodes named tensors (keys in the given order) with optional string metadata. */
export function encodeSafetensors(tensors: Map<string, TensorEntry>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p); // little-endian hosts (all wasm hosts)
    p += t.data.byteLength;
  }
  return out;
}

/** Decodes a safetensors buffer; throws an Error naming `source` and the tensor at fault on anything malformed. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file (${why})`);
  };
  if (bytes.length < 8) fail('shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`header of ${n} bytes in a file of ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    return fail('header is not JSON');
  }
  if (!isObject(header)) return fail('header is not a JSON object');
  const base = 8 + n;
  const tensors = new Map<string, TensorEntry>();
  const spans: { name: string; b0: number; b1: number }[] = [];
  let metadata: Record<string, string> = {};
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(h) || !Object.values(h).every((v) => typeof v === 'string')) fail('__metadata__ is not an object of strings');
      metadata = h as Record<string, string>;
      continue;
    }
    const at = `tensor "${name}"`;
    if (!isObject(h)) return fail(`${at} is not an object`);
    const { dtype, shape, data_offsets: off } = h;
    if (typeof dtype !== 'string') return fail(`${at} has no dtype`);
    const width = dtype === 'F32' ? 4 : dtype === 'I64' ? 8 : fail(`${at}: dtype ${dtype} is not supported (F32, I64)`);
    if (!Array.isArray(shape) || !shape.every(count)) return fail(`${at}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every(count) || off[0] > off[1]) return fail(`${at}: data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    const [b0, b1] = off as [number, number];
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (b1 - b0 !== size * width) return fail(`${at}: data_offsets [${b0}, ${b1}] hold ${b1 - b0} bytes, shape [${shape}] of ${dtype} needs ${size * width}`);
    if (base + b1 > bytes.length) return fail(`${at}: data_offsets [${b0}, ${b1}] run past the end of the file`);
    spans.push({ name, b0, b1 });
    const copy = new Uint8Array(bytes.subarray(base + b0, base + b1)); // a copy: Buffer.slice would share memory
    const data = width === 4 ? new Float32Array(copy.buffer) : new BigInt64Array(copy.buffer);
    tensors.set(name, { dtype: dtype as TensorEntry['dtype'], shape: shape as number[], data });
  }
  spans.sort((a, b) => a.b0 - b.b0 || a.b1 - b.b1);
  for (let i = 1; i < spans.length; i++) {
    const p = spans[i - 1], q = spans[i];
    if (q.b0 < p.b1) fail(`tensor "${q.name}" [${q.b0}, ${q.b1}] overlaps tensor "${p.name}" [${p.b0}, ${p.b1}]`);
  }
  return { tensors, metadata };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A network's parameters and batch-norm buffers (with num_batches_tracked), as PyTorch's state_dict names them. */
export function netTensors(net: Net, trainForwards: number): Map<string, TensorEntry> {
  const m = new Map<string, TensorEntry>();
  for (const p of net.params) m.set(p.name, { dtype: 'F32', shape: p.shape, data: net.read(p.name) });
  for (const b of net.buffers) {
    m.set(b.name, { dtype: 'F32', shape: b.shape, data: net.read(b.name) });
    if (b.name.endsWith('.running_var')) {
      m.set(b.name.replace(/running_var$/, 'num_batches_tracked'), { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(trainForwards)) });
    }
  }
  return m;
}

/** Loads every parameter and buffer of `net` from tensors; all must be present with the same shapes. */
export function loadNetTensors(net: Net, tensors: Map<string, TensorEntry>, source = 'weights'): void {
  const want = [...net.params, ...net.buffers];
  const problems: string[] = [];
  for (const t of want) {
    const got = tensors.get(t.name);
    if (!got) problems.push(`missing ${t.name}`);
    else if (got.dtype !== 'F32' || got.shape.join() !== t.shape.join()) problems.push(`${t.name} is ${got.dtype} [${got.shape}], expected F32 [${t.shape}]`);
  }
  const known = new Set(want.map((t) => t.name));
  for (const name of tensors.keys()) if (!known.has(name) && !name.endsWith('.num_batches_tracked')) problems.push(`unexpected ${name}`);
  if (problems.length) throw new Error(`${source}: does not fit this model: ${problems.join('; ')}`);
  for (const t of want) net.write(t.name, tensors.get(t.name)!.data as Float32Array);
}

/** Writes a network's weights to a file (Node and Deno), whole or not at all. */
export async function saveNet(net: Net, path: string, trainForwards: number, metadata: Record<string, string> = {}): Promise<void> {
  if (!hasNodeModules()) throw new Error('saving to a file needs Node or Deno; in a browser, use encodeSafetensors(netTensors(net, …))');
  const { writeFileAtomic } = await import('./fsutil.js');
  writeFileAtomic(path, encodeSafetensors(netTensors(net, trainForwards), metadata));
}

/** Reads a network's weights from a file (Node and Deno). */
export async function loadNet(net: Net, path: string): Promise<Record<string, string>> {
  if (!hasNodeModules()) throw new Error('loading a file needs Node or Deno; in a browser, use decodeSafetensors(bytes) and loadNetTensors');
  const { readFile } = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
  const { tensors, metadata } = decodeSafetensors(await readFile(path), path);
  loadNetTensors(net, tensors, path);
  return metadata;
}
