// Helper threads for one kernel instance: the same compiled module
// instantiated again on the same shared memory, once per helper. A call to
// `run` hands each helper one kernel call (an export's name and its numeric
// arguments), runs the first call itself, and returns when all are done. The
// callers split work only where the pieces are independent sums (column blocks
// of a product, images, planes, element ranges), so the numbers do not depend
// on the thread count. Helpers allocate nothing: their packing workspace is
// planned by the main instance.
//
// Synchronisation is one shared Int32Array: a generation counter the helpers
// wait on and a done counter the caller waits on. Waiting spins a little first
// (`spin` polls), then sleeps in Atomics.wait: a spin answers in well under a
// microsecond, a sleep costs a wake-up (`npm run bench -- threads` measures both).
import { instantiate } from '../build/simdnet.simd.js'; // the same adapter for every build (src/kernels.ts)
import { hasNodeModules, nodeModule } from './asset.js';

/** One kernel call: an export's name, then its arguments. */
export type KernelCall = [name: string, ...args: number[]];

const SEQ = 0, DONE = 1, STOP = 2, FAILED = 3;
const SLOT = 32; // float64s per helper: function index, argument count, arguments
const HEADER = 64; // bytes before the slots
/** The control buffer's layout (Int32 indices in the header, then float64 slots), for tests that drive a helper by hand. */
export const CONTROL = { SEQ, DONE, STOP, FAILED, SLOT, HEADER } as const;

export interface TeamOptions {
  /** Polls before sleeping, when waiting for work or for helpers (default 200000: a fraction of a millisecond, longer than most gaps between split calls). */
  spin?: number;
}

/** What a helper receives at its start. */
export interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  index: number;
  names: string[];
  workspace: number;
  workspaceBytes: number;
  spin: number;
}

interface HelperHandle {
  terminate(): unknown;
}

let webHelper: (() => Worker) | null = null;

/**
 * In a browser, how to start a helper thread: a module Web Worker whose script
 * calls `runHelper` with the data it receives (the page's web/helper.ts). A
 * bundler must see the Worker's URL in the page's own code, so the core cannot
 * make it. Helpers also need a cross-origin isolated page (shared memory).
 */
export function setHelperWorker(factory: () => Worker): void {
  webHelper = factory;
}

/** Whether helper threads can run here: Node, Deno, or an isolated page that gave setHelperWorker. */
export function helpersAvailable(): boolean {
  return hasNodeModules() || (webHelper !== null && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
}

/** Logical cores here. */
export async function coreCount(): Promise<number> {
  if (hasNodeModules()) return (await nodeModule<typeof import('node:os')>('node:os')).availableParallelism();
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency || 1;
}

/** A helper thread's life (team-worker.ts on Node and Deno, the page's helper in browsers): instantiate, report, serve. */
export async function runHelper(data: HelperData, ready: () => void): Promise<void> {
  const exports = await instantiate(data.module, { env: { memory: data.memory } });
  exports.set_workspace(data.workspace, data.workspaceBytes);
  exports.set_barrier_spins(data.spin);
  ready();
  Team.serve(data, exports as unknown as Record<string, unknown>);
}

export class Team {
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array;
  private readonly index: Map<string, number>;
  /** How long a caller waits for helpers before it gives up: longer than a thread stuck at a barrier does (assembly/threads.ts). */
  private readonly patienceMs: number;
  private closed = false;

  private constructor(
    readonly size: number,
    private readonly exports: Record<string, unknown>,
    private readonly names: string[],
    control: SharedArrayBuffer,
    private readonly helpers: HelperHandle[],
    readonly spin: number,
  ) {
    this.ctl = new Int32Array(control, 0, HEADER / 4);
    this.slots = new Float64Array(control, HEADER);
    this.index = new Map(names.map((n, i) => [n, i]));
    this.patienceMs = 2000 * (exports.BARRIER_SECONDS as WebAssembly.Global).value;
  }

  /**
   * Starts `size − 1` helpers for an instance on shared memory: worker_threads
   * on Node and Deno, the page's Web Workers (setHelperWorker) in an isolated
   * page; elsewhere this throws (src/kernels.ts uses one thread instead).
   */
  static async start(size: number, k: { exports: Record<string, unknown>; module: WebAssembly.Module; memory: WebAssembly.Memory; workspaces: { ptr: number; bytes: number }[] }, options: TeamOptions = {}): Promise<Team> {
    if (!helpersAvailable()) throw new Error('simdnet: helper threads need Node, Deno, or a cross-origin isolated page that called setHelperWorker');
    // spinning pays while every thread has a core; with more threads than cores a spinner holds up the thread it waits for
    const spin = options.spin ?? (size <= (await coreCount()) ? 200000 : 0);
    // the bindings adapt some exports and inherit the rest from the instance's exports
    const names = [...new Set([...Object.keys(k.exports), ...Object.keys(Object.getPrototypeOf(k.exports) ?? {})])].filter((n) => typeof k.exports[n] === 'function');
    const control = new SharedArrayBuffer(HEADER + 8 * SLOT * size);
    const data = (i: number): HelperData => ({ module: k.module, memory: k.memory, control, index: i + 1, names, workspace: k.workspaces[i].ptr, workspaceBytes: k.workspaces[i].bytes, spin });
    let helpers: HelperHandle[];
    if (hasNodeModules()) {
      const { Worker } = await nodeModule<typeof import('node:worker_threads')>('node:worker_threads');
      const here = import.meta.url;
      const file = here.endsWith('.ts') ? new URL('../dist/team-worker.js', here) : new URL('./team-worker.js', here);
      helpers = await Promise.all(Array.from({ length: size - 1 }, (_, i) => new Promise<import('node:worker_threads').Worker>((resolve, reject) => {
        const w = new Worker(file, { workerData: data(i) });
        w.once('message', () => {
          w.unref(); // a helper waiting for work never keeps the process alive
          resolve(w);
        });
        w.once('error', (e) => reject(new Error(`simdnet: a kernel thread did not start: ${e.message}`)));
        w.once('exit', (code) => reject(new Error(`simdnet: a kernel thread stopped at its start (exit code ${code})`)));
      })));
    } else {
      helpers = await Promise.all(Array.from({ length: size - 1 }, (_, i) => new Promise<Worker>((resolve, reject) => {
        const w = webHelper!();
        w.onmessage = () => resolve(w);
        w.onerror = (e) => reject(new Error(`simdnet: a kernel thread did not start: ${e.message}`));
        w.postMessage(data(i));
      })));
    }
    return new Team(size, k.exports, names, control, helpers, spin);
  }

  /** Runs calls[0] here and calls[i] on helper i (missing ones: nothing); returns when all are done. */
  run(calls: KernelCall[]): void {
    if (this.closed) throw new Error('simdnet: the kernel threads were closed');
    if (calls.length > this.size) throw new Error(`${calls.length} calls for ${this.size} threads`);
    const { ctl, slots } = this;
    for (let i = 1; i < this.size; i++) {
      const c = calls[i], base = i * SLOT;
      if (!c) {
        slots[base] = -1;
        continue;
      }
      const fi = this.index.get(c[0]);
      if (fi === undefined) throw new Error(`simdnet: no kernel ${c[0]}`);
      slots[base] = fi;
      slots[base + 1] = c.length - 1;
      for (let a = 1; a < c.length; a++) slots[base + 1 + a] = c[a] as number;
    }
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    let failed: unknown = null;
    try {
      if (calls[0]) call(this.exports, calls[0]);
    } catch (e) {
      failed = e;
    }
    // every helper answers, even one whose call failed (a thread stuck at a kernel's barrier gives up and traps)
    const want = this.size - 1, start = performance.now();
    for (let spins = 0; ;) {
      const v = Atomics.load(ctl, DONE);
      if (v >= want) break;
      if (++spins <= this.spin) continue;
      Atomics.wait(ctl, DONE, v, 1000);
      if (performance.now() - start > this.patienceMs) {
        this.close();
        throw new Error('simdnet: the kernel threads stopped answering; they are stopped (this instance continues on one thread)');
      }
    }
    if (failed || Atomics.load(ctl, FAILED)) {
      // a kernel stopped part-way: its barrier may be left half-passed, so the threads are not used again
      this.close();
      const why = failed instanceof Error ? failed.message : failed ? String(failed) : 'on a helper thread';
      throw new Error(`simdnet: a kernel failed (${why}); the kernel threads are stopped (this instance continues on one thread)`);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops the helpers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    for (const h of this.helpers) void h.terminate();
  }

  /** The helper's loop (team-worker.ts): wait for a generation, run the slot's call, report. */
  static serve(data: HelperData, exports: Record<string, unknown>): void {
    const ctl = new Int32Array(data.control, 0, HEADER / 4);
    const slots = new Float64Array(data.control, HEADER);
    const base = data.index * SLOT;
    const fns = data.names.map((n) => exports[n] as (...a: number[]) => void), args: number[] = [];
    // 0, not SEQ's value now: the caller may have posted its first call already (it waits only for `ready`,
    // sent before this line runs; a helper that read 1 here would wait for a second call and stall the first)
    let seen = 0;
    for (;;) {
      for (let spins = 0; Atomics.load(ctl, SEQ) === seen; ) {
        if (++spins > data.spin) Atomics.wait(ctl, SEQ, seen);
      }
      seen = Atomics.load(ctl, SEQ);
      if (Atomics.load(ctl, STOP)) return;
      const fi = slots[base];
      if (fi >= 0) {
        args.length = slots[base + 1];
        for (let a = 0; a < args.length; a++) args[a] = slots[base + 2 + a];
        try {
          fns[fi](...args);
        } catch {
          Atomics.store(ctl, FAILED, 1);
        }
      }
      Atomics.add(ctl, DONE, 1);
      Atomics.notify(ctl, DONE);
    }
  }
}

function call(exports: Record<string, unknown>, c: KernelCall): void {
  (exports[c[0]] as (...a: number[]) => void)(...(c.slice(1) as number[]));
}
