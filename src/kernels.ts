// Loads one of the two kernel builds (src/instance.ts holds an instance and
// plans its memory).
import type * as Bindings from '../build/simdnet.simd.js';
import { Kernels, Build, BuildChoice } from './instance.js';
import { hasNodeModules, loadAsset, nodeModule } from './asset.js';

export { Kernels, MEMORY_LIMIT } from './instance.js';
export type { Build, BuildChoice, KernelExports } from './instance.js';

const wasmUrl = (build: Build) => new URL(`../build/simdnet.${build}.wasm`, import.meta.url);
const bytesCache = new Map<Build, Promise<Uint8Array<ArrayBuffer>>>();
const moduleCache = new Map<Build, Promise<WebAssembly.Module>>();

function wasmBytes(build: Build): Promise<Uint8Array<ArrayBuffer>> {
  let p = bytesCache.get(build);
  if (!p) {
    p = loadAsset(wasmUrl(build)).catch((e: Error) => {
      throw new Error(`simdnet: cannot read the ${build} kernels at ${wasmUrl(build).pathname} (run "npm run build"): ${e.message}`);
    });
    bytesCache.set(build, p);
  }
  return p;
}

/** True when this runtime accepts the SIMD build (as-sha256's way: ask WebAssembly.validate). */
export async function simdSupported(): Promise<boolean> {
  return WebAssembly.validate(await wasmBytes('simd'));
}

/** Resolves 'auto' to 'simd' where the runtime validates it, else 'scalar'. */
export async function resolveBuild(choice: BuildChoice = 'auto'): Promise<Build> {
  if (choice === 'simd' || choice === 'scalar') return choice;
  if (choice !== 'auto') throw new Error(`simdnet: unknown build "${String(choice)}" (simd, scalar or auto)`);
  return (await simdSupported()) ? 'simd' : 'scalar';
}

/**
 * V8 runs new wasm code in its baseline compiler (Liftoff) and moves a function
 * to the optimising one once it has spent a "tiering budget". Our kernels are
 * few, long-running and hot from the first call, and with the default budget
 * some stayed on baseline code for whole rounds (measured here: 250–300 ms per
 * epoch instead of 180). A small budget tiers them up within the first batches.
 * Flags are process-wide; runtimes without node:v8's setFlagsFromString skip it.
 */
async function tierUpEarly(): Promise<void> {
  if (!hasNodeModules()) return; // browsers tier up on their own
  try {
    (await nodeModule<typeof import('node:v8')>('node:v8')).setFlagsFromString('--wasm-tiering-budget=1000');
  } catch {
    // flags locked (or no node:v8, as in Deno): the default tiering still works, more slowly at first
  }
}

/** Loads a fresh instance of the kernels: 'simd', 'scalar' or 'auto' (default). */
export async function loadKernels(choice: BuildChoice = 'auto'): Promise<Kernels> {
  await tierUpEarly();
  const build = await resolveBuild(choice);
  let m = moduleCache.get(build);
  if (!m) {
    m = wasmBytes(build).then((b) => WebAssembly.compile(b));
    moduleCache.set(build, m);
  }
  const { instantiate } = (await import(`../build/simdnet.${build}.js`)) as typeof Bindings;
  const kernels = new Kernels(await instantiate(await m, {}), build);
  kernels.warmUp();
  return kernels;
}
