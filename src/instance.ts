// One instance of a kernel build: its exports (typed by the compiler's
// bindings) and the planner of its linear memory. Every buffer is a byte
// offset, reserved once by a bump allocator before training starts; typed-array
// views are rebuilt lazily when the memory has grown, so no view goes stale.
import type * as Bindings from '../build/simdnet.simd.js';
import type { Team, KernelCall } from './team.js';

export type Build = 'simd' | 'scalar';
export type BuildChoice = Build | 'auto';

/**
 * The kernels' exports, typed by the compiler's own bindings (`asc --bindings
 * raw` writes build/simdnet.<build>.d.ts and the small adapter
 * build/simdnet.<build>.js beside each module; nothing here restates a
 * signature). See assembly/index.ts for each contract. Pointers are byte offsets.
 */
export type KernelExports = Awaited<ReturnType<typeof Bindings.instantiate>>;

const ALIGN = 64;
/** The kernels that divide their own work among threads (their last two arguments: part, parts). */
export type SplitKernel = 'conv3x3_forward' | 'conv3x3_backward' | 'conv3x3_batchnorm_forward_train' | 'conv3x3_batchnorm_forward_eval' | 'conv3x3_batchnorm_backward'
  | 'conv2d_forward' | 'conv2d_relu_maxpool_forward' | 'conv2d_relu_maxpool_backward' | 'conv2d_backward' | 'batchnorm_channels_forward_train' | 'batchnorm_channels_forward_eval' | 'batchnorm_channels_backward';
/** Below this much work (multiply-adds or elements) a call is not split: waking helpers would cost more. */
const SPLIT_MIN = 1 << 15;
const PAGE = 65536;
/** wasm32 addresses 2³² bytes (65536 pages). */
export const MEMORY_LIMIT = 2 ** 32;

/** The general convolution's algorithms (assembly/conv2d.ts's CONV_* ids), by name. */
export const CONV_ALGORITHMS = ['im2col', 'winograd', 'direct'] as const;
export type ConvAlgorithm = (typeof CONV_ALGORITHMS)[number];

/** One instance of a kernel build with its memory planner. */
export class Kernels {
  readonly k: KernelExports;
  readonly build: Build;
  /** gemm's flags and the convolution algorithms, as assembly/ exports them. */
  readonly GEMM_TRANS_A: number;
  readonly GEMM_TRANS_B: number;
  readonly GEMM_ACCUMULATE: number;
  readonly convAlgorithms: Readonly<Record<ConvAlgorithm, number>>;
  private top: number;
  private team: Team | null = null;
  private buf: ArrayBuffer | null = null;
  private f32view = new Float32Array(0);
  private i32view = new Int32Array(0);

  constructor(exports: KernelExports, build: Build) {
    this.k = exports;
    this.build = build;
    this.GEMM_TRANS_A = exports.GEMM_TRANS_A.value;
    this.GEMM_TRANS_B = exports.GEMM_TRANS_B.value;
    this.GEMM_ACCUMULATE = exports.GEMM_ACCUMULATE.value;
    this.convAlgorithms = { im2col: exports.CONV_IM2COL.value, winograd: exports.CONV_WINOGRAD.value, direct: exports.CONV_DIRECT.value };
    this.top = align(this.k.heap_base());
    const wsBytes = this.k.workspace_bytes_needed();
    const ws = this.allocBytes(wsBytes);
    this.k.set_workspace(ws, wsBytes);
  }

  /** Threads that share each split kernel call (1 without helpers). */
  get threads(): number {
    return Math.min(this.team?.size ?? 1, this.activeThreads);
  }

  /** At most this many of the helpers and this thread take part in a call (a fit asked for fewer). */
  activeThreads = Infinity;

  /** Packing workspaces for `count` helper threads, planned here (helpers allocate nothing). */
  helperWorkspaces(count: number): { ptr: number; bytes: number }[] {
    const bytes = this.k.workspace_bytes_needed();
    return Array.from({ length: count }, () => ({ ptr: this.allocBytes(bytes), bytes }));
  }

  attachTeam(team: Team): void {
    this.team = team;
    this.k.set_barrier_spins(team.spin);
  }

  /** Runs kernel calls on the threads, calls[i] on thread i, and returns when all are done. */
  run(calls: KernelCall[]): void {
    if (this.team) {
      try {
        return this.team.run(calls);
      } finally {
        if (this.team.isClosed) this.team = null; // stopped after a failure: one thread from here on
      }
    }
    const k = this.k as unknown as Record<string, (...a: number[]) => void>;
    for (const [name, ...args] of calls) k[name](...args);
  }

  /**
   * [from, count] ranges of [0, total) for the threads, each but the last a
   * multiple of `align` (empty ranges left out): how a kernel call is split.
   */
  split(total: number, align = 1): [number, number][] {
    const T = Math.min(this.threads, Math.max(1, Math.floor(total / align)));
    const out: [number, number][] = [];
    let from = 0;
    for (let t = 0; t < T; t++) {
      const to = t === T - 1 ? total : Math.min(total, from + Math.ceil((total - from) / (T - t) / align) * align);
      if (to > from) out.push([from, to - from]);
      from = to;
    }
    return out;
  }

  /**
   * C (+)= op(A)·op(B) as the gemm export, split over the threads by blocks of
   * 16 columns (or of rows when C is narrow). Each element of C is the same
   * sequential sum either way, so the result is bit-identical for any count.
   */
  gemm(c: number, a: number, b: number, M: number, N: number, K: number, lda: number, ldb: number, ldc: number, flags: number): void {
    if (this.threads === 1 || M * N * K < SPLIT_MIN) return this.k.gemm(c, a, b, M, N, K, lda, ldb, ldc, flags);
    const tA = (flags & this.GEMM_TRANS_A) !== 0, tB = (flags & this.GEMM_TRANS_B) !== 0;
    if (N >= 32) {
      this.run(this.split(N, 16).map(([j, n]) => ['gemm', c + 4 * j, a, b + 4 * (tB ? j * ldb : j), M, n, K, lda, ldb, ldc, flags]));
    } else {
      this.run(this.split(M, 2).map(([i, m]) => ['gemm', c + 4 * i * ldc, a + 4 * (tA ? i : i * lda), b, m, N, K, lda, ldb, ldc, flags]));
    }
  }

  /**
   * A kernel that divides its own work (its last two arguments are part and
   * parts, assembly/threads.ts): called on every thread, each with its part.
   */
  parts(name: SplitKernel, ...args: number[]): void {
    const T = this.threads;
    if (T === 1) return (this.k[name] as (...a: number[]) => void)(...args, 0, 1);
    this.run(Array.from({ length: T }, (_, t): KernelCall => [name, ...args, t, T]));
  }

  /**
   * A kernel over `rows` independent rows (planes, or elements), split by
   * ranges that are multiples of `align`: `args(from, count)` are the call's
   * arguments for rows from … from + count − 1. `work` decides whether it pays.
   */
  byRows(name: keyof KernelExports, rows: number, work: number, align: number, args: (from: number, count: number) => number[]): void {
    const f = this.k[name] as unknown as (...a: number[]) => void;
    if (this.threads === 1 || work < SPLIT_MIN) return f(...args(0, rows));
    this.run(this.split(rows, align).map(([from, count]): KernelCall => [name, ...args(from, count)]));
  }

  /** ReLU → 2×2 max pool over R planes, split by planes. */
  reluMaxpool2x2Forward(y: number, idx: number, x: number, R: number, H: number, W: number): void {
    const o = (H >> 1) * (W >> 1);
    this.byRows('relu_maxpool2x2_forward', R, R * H * W, 1, (r, n) => [y + 4 * r * o, idx + 4 * r * o, x + 4 * r * H * W, n, H, W]);
  }

  reluMaxpool2x2Backward(dx: number, dy: number, y: number, idx: number, R: number, H: number, W: number): void {
    const o = (H >> 1) * (W >> 1);
    this.byRows('relu_maxpool2x2_backward', R, R * H * W, 1, (r, n) => [dx + 4 * r * H * W, dy + 4 * r * o, y + 4 * r * o, idx + 4 * r * o, n, H, W]);
  }

  /** One Adam step over n parameters, split by element ranges (each element's update is its own). */
  adamStep(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number, wd: number, decoupled: boolean): void {
    this.byRows('adam_step', n, n, 16, (i, c) => [p + 4 * i, g + 4 * i, m + 4 * i, v + 4 * i, c, lr, beta1, beta2, eps, bc1, bc2, wd, decoupled ? 1 : 0]);
  }

  /** One SGD step over n parameters, split as Adam's. */
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, wd: number, nesterov: boolean): void {
    this.byRows('sgd_step', n, n, 16, (i, c) => [p + 4 * i, g + 4 * i, buf + 4 * i, c, lr, momentum, wd, nesterov ? 1 : 0]);
  }

  /** Stops the helper threads (the instance then runs on one thread). */
  close(): void {
    this.team?.close();
    this.team = null;
  }

  /**
   * Runs every kernel a few times on tiny inputs, so that V8 compiles them with
   * its optimising tier (in the background) before real work arrives.
   */
  warmUp(): void {
    const mark = this.mark();
    const k = this.k, b = (n: number) => this.alloc(n);
    const N = 2, C = 8, H = 6, P = 16, K = C * 9;
    const x = b(N * C * H * H), w = b(C * K), bias = b(C), y = b(N * C * P), yc = b(C * N * P), dyc = b(C * N * P);
    const st = b(C), st2 = b(C), rv = b(C), idx = b(N * C * 4), pooled = b(N * C * 4), sums = b(2 * C), lab = b(N), t = b(N);
    const col = b(Math.max(k.conv3x3_workspace(N, 1, H, H, C), k.conv3x3_workspace(N, C, H, H, C)));
    for (let i = 0; i < 20; i++) {
      for (const Cin of [1, C]) { // im2col and Winograd
        k.conv3x3_forward(y, col, yc, x, w, bias, N, Cin, H, H, C, 0, 1);
        k.conv3x3_backward(x, w, bias, dyc, y, w, col, N, Cin, H, H, C, 0, 1);
        k.conv3x3_batchnorm_forward_train(y, col, yc, st, st2, st, rv, x, w, bias, bias, bias, N, Cin, H, H, C, 0.1, 1e-5, 0, 1);
        k.conv3x3_batchnorm_forward_eval(y, col, yc, x, w, bias, bias, bias, st, rv, N, Cin, H, H, C, 1e-5, 0, 1);
        k.conv3x3_batchnorm_backward(x, w, bias, st, st2, dyc, y, w, bias, col, yc, st, st2, N, Cin, H, H, C, 0, 1);
      }
      k.conv3x3_batchnorm_forward_train(y, col, yc, st, st2, st, rv, x, w, bias, bias, bias, N, 1, H, H, C, 0.1, 1e-5, 0, 1);
      k.conv3x3_batchnorm_backward(0, w, bias, st, st2, dyc, y, w, bias, col, yc, st, st2, N, 1, H, H, C, 0, 1); // a first layer's own path
      k.relu_maxpool2x2_forward(pooled, idx, y, N * C, 4, 4);
      k.relu_maxpool2x2_backward(y, pooled, pooled, idx, N * C, 4, 4);
      k.batchnorm_features_forward_train(y, st, st2, st, rv, x, bias, bias, N, C, 0.1, 1e-5);
      k.batchnorm_features_forward_eval(y, st, st2, x, bias, bias, st, rv, N, C, 1e-5);
      k.batchnorm_features_backward(x, st, st2, sums, y, x, bias, st, st2, N, C);
      k.batchnorm_channels_forward_train(y, st, st2, st, rv, x, bias, bias, N, C, P, 0.1, 1e-5, 0, 1);
      k.batchnorm_channels_forward_eval(y, x, bias, bias, st, rv, N, C, P, 1e-5, 0, 1);
      k.batchnorm_channels_backward(x, st, st2, y, x, bias, st, st2, N, C, P, 0, 1);
      k.gemm(y, x, w, N, C, K, K, K, C, this.GEMM_TRANS_B);
      k.bias_add(y, bias, N, C);
      k.bias_backward(bias, y, N, C);
      k.relu_forward(y, y, N * C);
      k.relu_backward(y, y, y, N * C);
      k.pair_concat_forward(y, x, x, N, C);
      k.pair_concat_backward(x, x, y, N, C);
      k.bce_with_logits(t, y, t, N, 1);
      k.softmax_cross_entropy(y, x, lab, 1, C, 1);
      k.adam_step(w, x, y, yc, C * K, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, 0, false);
    }
    this.release(mark);
  }

  /** Current float32 view of the whole memory (rebuilt only after growth). */
  get f32(): Float32Array {
    if (this.buf !== this.k.memory.buffer) this.refresh();
    return this.f32view;
  }

  /** Current int32 view of the whole memory. */
  get i32(): Int32Array {
    if (this.buf !== this.k.memory.buffer) this.refresh();
    return this.i32view;
  }

  private refresh(): void {
    this.buf = this.k.memory.buffer as ArrayBuffer;
    this.f32view = new Float32Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** Reserves n 4-byte elements (zeroed), 64-byte aligned; returns the byte offset. */
  alloc(n: number): number {
    return this.allocBytes(n * 4);
  }

  private allocBytes(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`cannot allocate ${bytes} bytes`);
    const ptr = this.top;
    const top = align(ptr + bytes);
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    if (top > MEMORY_LIMIT) {
      throw new RangeError(`simdnet: the buffers planned so far need ${gib(top)} GiB, more than WebAssembly's ${gib(MEMORY_LIMIT)} GiB memory limit: use a smaller batch`);
    }
    const have = this.k.memory.buffer.byteLength;
    if (top > have) {
      try {
        this.k.memory.grow(Math.ceil((top - have) / PAGE));
      } catch (e) {
        throw new RangeError(`simdnet: cannot grow the kernel memory to ${gib(top)} GiB (${(e as Error).message}): use a smaller batch`);
      }
    }
    this.top = top; // only once the memory is there: a refused plan changes nothing
    this.f32.fill(0, ptr >>> 2, (ptr + bytes) >>> 2);
    return ptr;
  }

  /** The planner's position, to release everything planned after it with `release`. */
  mark(): number {
    return this.top;
  }

  /** Frees every buffer planned after `mark` (the memory stays reserved for reuse). */
  release(mark: number): void {
    if (mark > this.top) throw new RangeError('release past the current top');
    this.top = mark;
  }

  /** A copy of n floats at byte offset ptr. */
  read(ptr: number, n: number): Float32Array {
    return this.f32.slice(ptr >>> 2, (ptr >>> 2) + n);
  }

  /** Writes values at byte offset ptr. */
  write(ptr: number, values: ArrayLike<number>): void {
    this.f32.set(values, ptr >>> 2);
  }
}

function align(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}

