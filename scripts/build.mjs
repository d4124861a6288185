#!/usr/bin/env node
// Builds only what is missing or older than its sources, so `npm run
// experiment`, `npm test` and `npm run bench` start at once when nothing
// changed: the two wasm builds (assembly/ → build/), then the TypeScript
// (src/ → dist/). `--force` rebuilds both.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
for (const target of ['simd', 'scalar']) {
  const out = at(`build/simdnet.${target}.wasm`);
  if (force || mtime(out) < wasmSources) run(`${target} kernels`, [at('node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--target', target]);
}

// tsc rewrites every output, so one stamp tells whether dist/ is current.
const stamp = at('dist/.built');
if (force || mtime(stamp) < newest(['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map(at))) {
  rmSync(at('dist'), { recursive: true, force: true }); // no outputs of deleted sources left behind
  run('dist/ (tsc)', [at('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  writeFileSync(stamp, new Date().toISOString() + '\n');
}
