// Loads one of the two kernel builds (src/instance.ts holds an instance and
// plans its memory).
// asc writes the same adapter beside every build (one source, one set of
// signatures: a test checks it), so the simd one instantiates them all.
import { instantiate } from '../build/simdnet.simd.js';
import { Kernels, Build, BuildChoice, MEMORY_LIMIT } from './instance.js';
import { hasNodeModules, loadAsset, nodeModule } from './asset.js';
import { Team, TeamOptions, helpersAvailable, coreCount } from './team.js';

export { Kernels, MEMORY_LIMIT, CONV_ALGORITHMS } from './instance.js';
export type { Build, BuildChoice, KernelExports, ConvAlgorithm } from './instance.js';

/** A build's file: the plain one, or its twin on shared memory that helper threads can join. */
type Variant = Build | `${Build}-threads`;
const wasmUrl = (build: Variant) => new URL(`../build/simdnet.${build}.wasm`, import.meta.url);
const bytesCache = new Map<Variant, Promise<Uint8Array<ArrayBuffer>>>();
const moduleCache = new Map<Variant, Promise<WebAssembly.Module>>();

function wasmBytes(build: Variant): Promise<Uint8Array<ArrayBuffer>> {
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

function compiled(variant: Variant): Promise<WebAssembly.Module> {
  let m = moduleCache.get(variant);
  if (!m) {
    m = wasmBytes(variant).then((b) => WebAssembly.compile(b));
    moduleCache.set(variant, m);
  }
  return m;
}

export interface LoadOptions extends TeamOptions {
  /**
   * Threads for each kernel call (default 1; 'auto': one per core). More than
   * one runs the build's threaded twin on shared memory with helper threads
   * (worker_threads in Node and Deno, module Web Workers in a cross-origin
   * isolated page that called setHelperWorker; elsewhere one thread, said once).
   * The results are the same bit for bit for any count.
   */
  threads?: number | 'auto';
}

let saidOneThread = false;

/** The thread count `threads` asks for, here. */
async function threadCount(threads: number | 'auto' = 1): Promise<number> {
  if (threads !== 'auto' && (!Number.isInteger(threads) || threads < 1 || threads > 64)) {
    throw new Error(`simdnet: threads must be an integer in 1 … 64 or 'auto', got ${String(threads)}`);
  }
  const want = Math.min(64, threads === 'auto' ? await coreCount() : threads);
  if (want > 1 && !helpersAvailable()) {
    if (!saidOneThread) console.warn('simdnet: kernel threads need Node, Deno or a cross-origin isolated page (with setHelperWorker); training on one thread');
    saidOneThread = true;
    return 1;
  }
  return want;
}

/** Fetches a build's bytes now (a page that must work offline later): the plain build, or its threaded twin. */
export async function preloadKernels(build: Build, threads = false): Promise<void> {
  await wasmBytes(threads ? `${build}-threads` : build);
}

/** A shared memory for threaded kernels, or null (said once) where this runtime cannot reserve one. */
function sharedMemory(): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: 16, maximum: MEMORY_LIMIT / 65536, shared: true });
  } catch (e) {
    if (!saidOneThread) console.warn(`simdnet: no shared memory here (${(e as Error).message}); training on one thread`);
    saidOneThread = true;
    return null;
  }
}

/** Loads a fresh instance of the kernels: 'simd', 'scalar' or 'auto' (default). */
export async function loadKernels(choice: BuildChoice = 'auto', options: LoadOptions = {}): Promise<Kernels> {
  await tierUpEarly();
  const build = await resolveBuild(choice);
  const threads = await threadCount(options.threads);
  // a shared memory reserves its whole maximum (4 GiB) up front: where that is refused, one thread
  const memory = threads > 1 ? sharedMemory() : null;
  if (!memory) {
    const kernels = new Kernels(await instantiate(await compiled(build), {}), build);
    kernels.warmUp();
    return kernels;
  }
  const module = await compiled(`${build}-threads`);
  const kernels = new Kernels(await instantiate(module, { env: { memory } }), build);
  const workspaces = kernels.helperWorkspaces(threads - 1);
  kernels.attachTeam(await Team.start(threads, { exports: kernels.k as unknown as Record<string, unknown>, module, memory, workspaces }, options));
  kernels.warmUp();
  return kernels;
}
