// Matrix multiply: C[M×N] (+)= op(A)[M×K] · op(B)[K×N], row-major, float32.
//
// GotoBLAS blocking: for each NC-column block and KC-deep slice, B is packed
// into 16-wide panels (zero-padded), then for each MC-row block A is packed into
// row pairs; a 2×16 micro-kernel (8 f32x4 accumulators: V8 has 15 vector
// registers) runs over the panels. Each C element is a plain sequential sum over
// k (multiply, then add: wasm has no implicit FMA), so the SIMD and the scalar
// build give bit-identical products.
import { workspace, edgeTile, KC, MC, NC, WS_A_FLOATS } from "./workspace";

export const GEMM_TRANS_A: i32 = 1;
export const GEMM_TRANS_B: i32 = 2;
export const GEMM_ACCUMULATE: i32 = 4;

/**
 * c: [M×N] with row stride ldc; a: [M×K] (or [K×M] if TRANS_A) with row stride lda;
 * b: [K×N] (or [N×K] if TRANS_B) with row stride ldb. Strides in elements.
 * flags: GEMM_TRANS_A | GEMM_TRANS_B | GEMM_ACCUMULATE (C += instead of C =).
 */
export function gemm(
  c: usize, a: usize, b: usize,
  M: i32, N: i32, K: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32,
): void {
  const transA = (flags & GEMM_TRANS_A) != 0;
  const transB = (flags & GEMM_TRANS_B) != 0;
  const accumulate = (flags & GEMM_ACCUMULATE) != 0;
  const pa = workspace;
  const pb = workspace + (<usize>WS_A_FLOATS << 2);
  if (K == 0) {
    if (!accumulate) zero_matrix(c, M, N, ldc);
    return;
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      pack_b(pb, b, ldb, transB, pc, kc, jc, nc);
      const acc = accumulate || pc > 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        pack_a(pa, a, lda, transA, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += 16) {
          const cols = min(16, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += 2) {
            const rows = min(2, mc - ir);
            const ap = pa + (<usize>(ir * kc) << 2);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (rows == 2 && cols == 16) {
              kernel_2x16(cp, ldc, ap, bp, kc, acc, false);
            } else if (rows == 2 && cols == 8) {
              kernel_2x16(cp, ldc, ap, bp, kc, acc, true);
            } else {
              kernel_2x16_edge(cp, ldc, ap, bp, kc, acc, rows, cols);
            }
          }
        }
      }
    }
  }
}

function zero_matrix(c: usize, M: i32, N: i32, ldc: i32): void {
  for (let i = 0; i < M; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>N << 2);
}

// A block rows [i0, i0+mc) × k [k0, k0+kc) → row pairs, each [k][2]; odd row padded with 0.
function pack_a(dst: usize, a: usize, lda: i32, trans: bool, i0: i32, mc: i32, k0: i32, kc: i32): void {
  for (let ir = 0; ir < mc; ir += 2) {
    const two = ir + 1 < mc;
    const r0 = i0 + ir;
    if (!trans) {
      let s0 = a + (<usize>(r0 * lda + k0) << 2);
      let s1 = two ? s0 + (<usize>lda << 2) : s0;
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        const zero = f32x4.splat(0);
        for (; k + 4 <= kc; k += 4) {
          const v0 = v128.load(s0), v1 = two ? v128.load(s1) : zero;
          v128.store(dst, v128.shuffle<f32>(v0, v1, 0, 4, 1, 5));
          v128.store(dst, v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), 16);
          s0 += 16; s1 += 16; dst += 32;
        }
      }
      for (; k < kc; k++) {
        store<f32>(dst, load<f32>(s0));
        store<f32>(dst, two ? load<f32>(s1) : 0, 4);
        s0 += 4; s1 += 4; dst += 8;
      }
    } else {
      let s = a + (<usize>(k0 * lda + r0) << 2);
      const step = <usize>lda << 2;
      if (two) {
        for (let k = 0; k < kc; k++) {
          store<u64>(dst, load<u64>(s));
          s += step; dst += 8;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          store<f32>(dst, load<f32>(s));
          store<f32>(dst, 0, 4);
          s += step; dst += 8;
        }
      }
    }
  }
}

// B block k [k0, k0+kc) × cols [j0, j0+nc) → 16-wide panels, each [k][16]; zero-padded.
function pack_b(dst: usize, b: usize, ldb: i32, trans: bool, k0: i32, kc: i32, j0: i32, nc: i32): void {
  for (let jr = 0; jr < nc; jr += 16) {
    const cols = min(16, nc - jr);
    const j = j0 + jr;
    if (!trans) {
      let s = b + (<usize>(k0 * ldb + j) << 2);
      const step = <usize>ldb << 2;
      if (cols == 16) {
        for (let k = 0; k < kc; k++) {
          if (ASC_FEATURE_SIMD) {
            v128.store(dst, v128.load(s));
            v128.store(dst, v128.load(s, 16), 16);
            v128.store(dst, v128.load(s, 32), 32);
            v128.store(dst, v128.load(s, 48), 48);
          } else {
            memory.copy(dst, s, 64);
          }
          s += step; dst += 64;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          memory.fill(dst, 0, 64);
          memory.copy(dst, s, <usize>cols << 2);
          s += step; dst += 64;
        }
      }
    } else {
      // B stored [N×K]: panel element (k, jj) = b[(j+jj)*ldb + k]
      if (cols < 16) memory.fill(dst, 0, <usize>(kc * 16) << 2);
      let jj = 0;
      if (ASC_FEATURE_SIMD) {
        // 4×4 blocks: four rows of B, four k at a time, transposed in registers.
        const rs = <usize>ldb << 2;
        for (; jj + 4 <= cols; jj += 4) {
          let s = b + (<usize>((j + jj) * ldb + k0) << 2);
          let d = dst + (<usize>jj << 2);
          let k = 0;
          for (; k + 4 <= kc; k += 4) {
            const r0 = v128.load(s), r1 = v128.load(s + rs), r2 = v128.load(s + 2 * rs), r3 = v128.load(s + 3 * rs);
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
            v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 64);
            v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 128);
            v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 192);
            s += 16; d += 256;
          }
          for (; k < kc; k++) {
            store<f32>(d, load<f32>(s));
            store<f32>(d, load<f32>(s + rs), 4);
            store<f32>(d, load<f32>(s + 2 * rs), 8);
            store<f32>(d, load<f32>(s + 3 * rs), 12);
            s += 4; d += 64;
          }
        }
      }
      for (; jj < cols; jj++) {
        let s = b + (<usize>((j + jj) * ldb + k0) << 2);
        let d = dst + (<usize>jj << 2);
        for (let k = 0; k < kc; k++) {
          store<f32>(d, load<f32>(s));
          s += 4; d += 64;
        }
      }
      dst += <usize>(kc * 16) << 2;
    }
  }
}

// @ts-ignore: decorator
@inline
function kernel_2x16(c: usize, ldc: i32, a: usize, b: usize, kc: i32, acc: bool, half: bool): void {
  const c1 = c + (<usize>ldc << 2);
  if (ASC_FEATURE_SIMD) {
    // half (a constant once inlined): the panel's first 8 columns only, half the work where a
    // panel is half full (T = 200 Winograd tiles: one panel in 13)
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
    if (acc) {
      c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(c1); c11 = v128.load(c1, 16);
      if (!half) { c02 = v128.load(c, 32); c03 = v128.load(c, 48); c12 = v128.load(c1, 32); c13 = v128.load(c1, 48); }
    }
    const end = a + (<usize>kc << 3);
    while (a < end) {
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      const a0 = v128.load32_splat(a);
      const a1 = v128.load32_splat(a + 4);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      if (!half) {
        const b2 = v128.load(b, 32), b3 = v128.load(b, 48);
        c02 = f32x4.add(c02, f32x4.mul(a0, b2));
        c03 = f32x4.add(c03, f32x4.mul(a0, b3));
        c12 = f32x4.add(c12, f32x4.mul(a1, b2));
        c13 = f32x4.add(c13, f32x4.mul(a1, b3));
      }
      a += 8; b += 64;
    }
    v128.store(c, c00); v128.store(c, c01, 16); v128.store(c1, c10); v128.store(c1, c11, 16);
    if (!half) { v128.store(c, c02, 32); v128.store(c, c03, 48); v128.store(c1, c12, 32); v128.store(c1, c13, 48); }
  } else {
    // Four (or two) 2×4 strips keep the accumulators in registers.
    const cols = half ? 8 : 16;
    for (let q = 0; q < cols; q += 4) {
      const cq = c + (<usize>q << 2), c1q = c1 + (<usize>q << 2);
      let x0: f32 = 0, x1: f32 = 0, x2: f32 = 0, x3: f32 = 0;
      let y0: f32 = 0, y1: f32 = 0, y2: f32 = 0, y3: f32 = 0;
      if (acc) {
        x0 = load<f32>(cq); x1 = load<f32>(cq, 4); x2 = load<f32>(cq, 8); x3 = load<f32>(cq, 12);
        y0 = load<f32>(c1q); y1 = load<f32>(c1q, 4); y2 = load<f32>(c1q, 8); y3 = load<f32>(c1q, 12);
      }
      let ap = a, bp = b + (<usize>q << 2);
      const end = a + (<usize>kc << 3);
      while (ap < end) {
        const a0 = load<f32>(ap), a1 = load<f32>(ap, 4);
        const b0 = load<f32>(bp), b1 = load<f32>(bp, 4), b2 = load<f32>(bp, 8), b3 = load<f32>(bp, 12);
        x0 += a0 * b0; x1 += a0 * b1; x2 += a0 * b2; x3 += a0 * b3;
        y0 += a1 * b0; y1 += a1 * b1; y2 += a1 * b2; y3 += a1 * b3;
        ap += 8; bp += 64;
      }
      store<f32>(cq, x0); store<f32>(cq, x1, 4); store<f32>(cq, x2, 8); store<f32>(cq, x3, 12);
      store<f32>(c1q, y0); store<f32>(c1q, y1, 4); store<f32>(c1q, y2, 8); store<f32>(c1q, y3, 12);
    }
  }
}

// Partial tile: run the full kernel on a 2×16 tile of the workspace, copy the valid part.
function kernel_2x16_edge(c: usize, ldc: i32, a: usize, b: usize, kc: i32, acc: bool, rows: i32, cols: i32): void {
  const bytes = <usize>cols << 2;
  memory.fill(edgeTile, 0, 128);
  if (acc) {
    for (let i = 0; i < rows; i++) memory.copy(edgeTile + (<usize>i << 6), c + (<usize>(i * ldc) << 2), bytes);
  }
  if (cols <= 8) kernel_2x16(edgeTile, 16, a, b, kc, acc, true);
  else kernel_2x16(edgeTile, 16, a, b, kc, acc, false);
  for (let i = 0; i < rows; i++) memory.copy(c + (<usize>(i * ldc) << 2), edgeTile + (<usize>i << 6), bytes);
}

/** Naive reference: same contract, no blocking. Kept beside the tuned kernel for tests. */
export function gemm_naive(
  c: usize, a: usize, b: usize,
  M: i32, N: i32, K: i32,
  lda: i32, ldb: i32, ldc: i32, flags: i32,
): void {
  const transA = (flags & GEMM_TRANS_A) != 0;
  const transB = (flags & GEMM_TRANS_B) != 0;
  const accumulate = (flags & GEMM_ACCUMULATE) != 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = accumulate ? load<f32>(c + (<usize>(i * ldc + j) << 2)) : 0;
      for (let k = 0; k < K; k++) {
        const x = load<f32>(a + (<usize>(transA ? k * lda + i : i * lda + k) << 2));
        const y = load<f32>(b + (<usize>(transB ? j * ldb + k : k * ldb + j) << 2));
        s += x * y;
      }
      store<f32>(c + (<usize>(i * ldc + j) << 2), s);
    }
  }
}
