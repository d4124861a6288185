#!/usr/bin/env node
// Builds only what is missing or older than its sources, so `npm run
// experiment`, `npm test` and `npm run bench` start at once when nothing
// changed: the two wasm builds (assembly/ → build/), the digits as compact
// binary assets (the mnist package's JSON → build/digits14.bin and
// build/digits28.bin), then the TypeScript (src/ → dist/). `--force`
// rebuilds everything.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const force = process.argv.includes('--force');
const at = (p) => join(root, p);

/** The newest modification time under the given files and folders (0 if none exist). */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((f) => join(p, f))));
    else t = Math.max(t, s.mtimeMs);
  }
  return t;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);

function run(what, args) {
  process.stderr.write(`build: ${what}\n`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const wasmSources = newest(['assembly', 'asconfig.json', 'package-lock.json'].map(at));
for (const target of ['simd', 'scalar', 'simd-threads', 'scalar-threads']) {
  const out = at(`build/simdnet.${target}.wasm`);
  if (force || mtime(out) < wasmSources) run(`${target} kernels`, [at('node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--target', target]);
}

// The digits: per class, in the package's order. Every value of the package is
// a whole number of thousandths, so the 28×28 asset stores thousandths and the
// 14×14 one the sum of a 2×2 window's four (0 … 4000): both as little-endian
// uint16, decoded by src/data.ts to exactly the floats the JSON gives.
const require = createRequire(import.meta.url);
const mnistDir = join(require.resolve('mnist/package.json'), '..');
const digitSources = newest([join(mnistDir, 'package.json'), at('scripts/build.mjs')]);
if (force || mtime(at('build/digits14.bin')) < digitSources || mtime(at('build/digits28.bin')) < digitSources) {
  process.stderr.write('build: digits (build/digits14.bin, build/digits28.bin)\n');
  const perClass = Array.from({ length: 10 }, (_, c) => JSON.parse(readFileSync(join(mnistDir, `src/digits/${c}.json`), 'utf8')).data);
  const counts = perClass.map((raw) => raw.length / 784);
  const asset = (side, value) => {
    const n = counts.reduce((a, b) => a + b, 0), per = side * side;
    const out = new Uint8Array(12 + 40 + 2 * n * per), view = new DataView(out.buffer);
    out.set(new TextEncoder().encode('SNDG'), 0);
    view.setUint32(4, 1, true);
    view.setUint32(8, side, true);
    counts.forEach((k, c) => view.setUint32(12 + 4 * c, k, true));
    let o = 52;
    perClass.forEach((raw) => {
      for (let s = 0; s < raw.length; s += 784) {
        for (let i = 0; i < per; i++, o += 2) view.setUint16(o, value(raw, s, i), true);
      }
    });
    return out;
  };
  const k = (x) => {
    const v = Math.round(x * 1000);
    if (v / 1000 !== x) throw new Error(`mnist: ${x} is not a whole number of thousandths`);
    return v;
  };
  mkdirSync(at('build'), { recursive: true });
  writeFileSync(at('build/digits28.bin'), asset(28, (raw, s, i) => k(raw[s + i])));
  writeFileSync(at('build/digits14.bin'), asset(14, (raw, s, i) => {
    const a = s + 2 * Math.floor(i / 14) * 28 + 2 * (i % 14);
    return k(raw[a]) + k(raw[a + 1]) + k(raw[a + 28]) + k(raw[a + 29]);
  }));
}

// tsc rewrites every output, so one stamp tells whether dist/ is current.
const stamp = at('dist/.built');
if (force || mtime(stamp) < newest(['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map(at))) {
  rmSync(at('dist'), { recursive: true, force: true }); // no outputs of deleted sources left behind
  run('dist/ (tsc)', [at('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  writeFileSync(stamp, new Date().toISOString() + '\n');
}
