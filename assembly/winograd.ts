// 3×3 convolution (stride 1, no padding) by Winograd's minimal filtering
// F(4×4, 3×3) (Lavin & Gray, 2016). Each 4×4 output tile is
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A
// for its 6×6 input tile d and filter g, so over Cin channels a tile costs 36
// products per (Cout, Cin) pair instead of 144: the work is 36 matrix
// multiplies M[ξ] = U[ξ]·V[ξ] of [Cout×Cin]·[Cin×T] over the T tiles, one per
// point ξ of the 6×6 transformed domain. The backward pass is the transpose of
// that linear map (dU = dM·Vᵀ, dV = Uᵀ·dM), so it saves as much.
//
// Layouts: U [36][Cout][Cin], V and dV [36][Cin][T], M and dM [36][Cout][T];
// the product is channel-major, yc [Cout][N·OH·OW], as conv.ts expects.
// Transforms run four tiles to a vector in the SIMD build and one tile at a
// time in the scalar build, through the same generic code: the same operations
// in the same order, so both builds give bit-identical results.
import { gemm, GEMM_TRANS_A, GEMM_TRANS_B } from "./gemm";

/** Winograd needs output sides that are multiples of 4; it pays once the channel products dominate. */
export function winograd_applies(Cin: i32, H: i32, W: i32): bool {
  return Cin >= 8 && (H - 2) % 4 == 0 && (W - 2) % 4 == 0 && H > 2 && W > 2;
}

/** Floats of workspace: V, U, M (dM in backward) and dU. */
export function winograd_workspace(N: i32, Cin: i32, H: i32, W: i32, Cout: i32): i32 {
  const T = N * ((H - 2) >> 2) * ((W - 2) >> 2);
  return 36 * (Cin * T + 2 * Cout * Cin + Cout * T + 4 * 16); // 16 floats of padding per plane
}

/**
 * Byte step between the 36 planes of a transformed matrix of `floats` values:
 * one cache line more than needed, so that the 36 values of one tile, a plane
 * apart, do not all fall in the same cache set (plane sizes are often powers of 2).
 */
// @ts-ignore: decorator
@inline
function plane(floats: i32): usize {
  return <usize>(floats + 16) << 2;
}

// Transform staging: 36 values of one tile group (a vector or a float each).
const tmpA = memory.data(36 * 16, 16);
const tmpB = memory.data(36 * 16, 16);
const tmpC = memory.data(36 * 16, 16);

/**
 * yc: [Cout, N·OH·OW] out (no bias); ws: workspace (V and U kept for backward);
 * x: [N, Cin, H, W]; w: [Cout, Cin, 3, 3].
 */
export function winograd_product(yc: usize, ws: usize, x: usize, w: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32): void {
  const T = N * ((H - 2) >> 2) * ((W - 2) >> 2);
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * T);
  const V = ws, U = V + 36 * vs, M = U + 36 * us;
  filter_transform(U, w, Cout, Cin);
  input_transform(V, x, N, Cin, H, W);
  for (let xi: usize = 0; xi < 36; xi++) gemm(M + xi * ms, U + xi * us, V + xi * vs, Cout, T, Cin, Cin, T, T, 0);
  output_transform(yc, M, N, Cout, H, W);
}

/**
 * dw: [Cout, Cin, 3, 3] += ; dx: [N, Cin, H, W] overwritten (skipped when 0);
 * dyc: [Cout, N·OH·OW] the product's gradient; ws: from winograd_product
 * (V is overwritten by dV when dx != 0).
 */
export function winograd_product_backward(dx: usize, dw: usize, dyc: usize, ws: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32): void {
  const T = N * ((H - 2) >> 2) * ((W - 2) >> 2);
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * T);
  const V = ws, U = V + 36 * vs, dM = U + 36 * us, dU = dM + 36 * ms;
  output_grad_transform(dM, dyc, N, Cout, H, W);
  for (let xi: usize = 0; xi < 36; xi++) gemm(dU + xi * us, dM + xi * ms, V + xi * vs, Cout, Cin, T, T, T, Cin, GEMM_TRANS_B);
  filter_grad_transform(dw, dU, Cout, Cin);
  if (dx == 0) return;
  for (let xi: usize = 0; xi < 36; xi++) gemm(V + xi * vs, U + xi * us, dM + xi * ms, Cin, T, Cout, Cin, T, T, GEMM_TRANS_A);
  input_grad_transform(dx, V, N, Cin, H, W);
}

// ---- the transforms of filters, input tiles and output tiles, each with its transpose ----

/** U[ξ][k][c] = (G g Gᵀ)[ξ] for every filter g = w[k, c]. */
export function filter_transform(U: usize, w: usize, Cout: i32, Cin: i32): void {
  const us = plane(Cout * Cin), F = Cout * Cin;
  let f = 0;
  if (ASC_FEATURE_SIMD) {
    for (; f + 4 <= F; f += 4) {
      const g = w + (<usize>(f * 9) << 2); // four filters' 36 floats: lane l takes filter f + l
      for (let p = 0; p < 9; p++) {
        const o = g + (<usize>p << 2);
        let v = f32x4.splat(load<f32>(o));
        v = f32x4.replace_lane(v, 1, load<f32>(o, 36));
        v = f32x4.replace_lane(v, 2, load<f32>(o, 72));
        v = f32x4.replace_lane(v, 3, load<f32>(o, 108));
        v128.store(tmpA + (<usize>p << 4), v);
      }
      filter_tile<v128>(U + (<usize>f << 2), us, tmpA, 16, 48);
    }
  }
  for (; f < F; f++) filter_tile<f32>(U + (<usize>f << 2), us, w + (<usize>(f * 9) << 2), 4, 12);
}

/** dw[k, c] += Gᵀ dU[·][k][c] G. */
export function filter_grad_transform(dw: usize, dU: usize, Cout: i32, Cin: i32): void {
  const us = plane(Cout * Cin), F = Cout * Cin;
  let f = 0;
  if (ASC_FEATURE_SIMD) {
    for (; f + 4 <= F; f += 4) {
      filter_grad_tile<v128>(tmpC, 16, 48, dU + (<usize>f << 2), us);
      for (let l = 0; l < 4; l++) add_block(dw + (<usize>((f + l) * 9) << 2), 3, 3, 3, tmpC + (<usize>l << 2), 16);
    }
  }
  for (; f < F; f++) {
    filter_grad_tile<f32>(tmpC, 4, 12, dU + (<usize>f << 2), us);
    add_block(dw + (<usize>(f * 9) << 2), 3, 3, 3, tmpC, 4);
  }
}

/** V[ξ][c][t] = (Bᵀ d B)[ξ] for every input tile d of x: [N, Cin, H, W]. */
export function input_transform(V: usize, x: usize, N: i32, Cin: i32, H: i32, W: i32): void {
  const TW = (W - 2) >> 2, TI = ((H - 2) >> 2) * TW, T = N * TI;
  const vs = plane(Cin * T), rs = <usize>W << 2;
  for (let c = 0; c < Cin; c++) {
    const dst = V + (<usize>(c * T) << 2);
    let t = 0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= T; t += 4) {
        const p0 = input_tile_at(x, t, TI, TW, c, Cin, H, W), p1 = input_tile_at(x, t + 1, TI, TW, c, Cin, H, W);
        const p2 = input_tile_at(x, t + 2, TI, TW, c, Cin, H, W), p3 = input_tile_at(x, t + 3, TI, TW, c, Cin, H, W);
        // row by row: columns 0–3 by a 4×4 transpose, columns 4–5 by two 64-bit loads per tile
        for (let i = 0; i < 6; i++) {
          const o = <usize>(i * W) << 2, d = tmpA + <usize>(i * 96);
          transpose4(d, 16, v128.load(p0 + o), v128.load(p1 + o), v128.load(p2 + o), v128.load(p3 + o));
          const u = v128.shuffle<f32>(v128.load64_zero(p0 + o, 16), v128.load64_zero(p1 + o, 16), 0, 4, 1, 5);
          const v = v128.shuffle<f32>(v128.load64_zero(p2 + o, 16), v128.load64_zero(p3 + o, 16), 0, 4, 1, 5);
          v128.store(d, v128.shuffle<f32>(u, v, 0, 1, 4, 5), 64);
          v128.store(d, v128.shuffle<f32>(u, v, 2, 3, 6, 7), 80);
        }
        input_tile<v128>(dst + (<usize>t << 2), vs, tmpA, 16, 96);
      }
    }
    for (; t < T; t++) input_tile<f32>(dst + (<usize>t << 2), vs, input_tile_at(x, t, TI, TW, c, Cin, H, W), 4, rs);
  }
}

/** dx = Σ over tiles of B dV[·][c][t] Bᵀ, placed at each tile's 6×6 window (overlaps add, tile by tile). */
export function input_grad_transform(dx: usize, dV: usize, N: i32, Cin: i32, H: i32, W: i32): void {
  const TW = (W - 2) >> 2, TI = ((H - 2) >> 2) * TW, T = N * TI;
  const vs = plane(Cin * T), rs = <usize>W << 2;
  // One tile per image covers it exactly once: store. Otherwise windows overlap: add, tile by tile.
  const single = TI == 1;
  if (!single) memory.fill(dx, 0, <usize>(N * Cin * H * W) << 2);
  for (let c = 0; c < Cin; c++) {
    const src = dV + (<usize>(c * T) << 2);
    let t = 0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= T; t += 4) {
        input_grad_tile<v128>(tmpC, 16, 96, src + (<usize>t << 2), vs);
        if (single) {
          const p0 = input_tile_at(dx, t, TI, TW, c, Cin, H, W), p1 = input_tile_at(dx, t + 1, TI, TW, c, Cin, H, W);
          const p2 = input_tile_at(dx, t + 2, TI, TW, c, Cin, H, W), p3 = input_tile_at(dx, t + 3, TI, TW, c, Cin, H, W);
          for (let i = 0; i < 6; i++) {
            const s = tmpC + <usize>(i * 96), o = <usize>i * rs;
            transpose4_to(p0 + o, p1 + o, p2 + o, p3 + o, v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48));
            const c4 = v128.load(s, 64), c5 = v128.load(s, 80);
            const u = v128.shuffle<f32>(c4, c5, 0, 4, 1, 5), v = v128.shuffle<f32>(c4, c5, 2, 6, 3, 7);
            v128.store64_lane(p0 + o, u, 0, 16);
            v128.store64_lane(p1 + o, u, 1, 16);
            v128.store64_lane(p2 + o, v, 0, 16);
            v128.store64_lane(p3 + o, v, 1, 16);
          }
        } else {
          for (let l = 0; l < 4; l++) add_block(input_tile_at(dx, t + l, TI, TW, c, Cin, H, W), W, 6, 6, tmpC + (<usize>l << 2), 16);
        }
      }
    }
    for (; t < T; t++) {
      const p = input_tile_at(dx, t, TI, TW, c, Cin, H, W);
      if (single) {
        input_grad_tile<f32>(p, 4, rs, src + (<usize>t << 2), vs);
      } else {
        input_grad_tile<f32>(tmpC, 4, 24, src + (<usize>t << 2), vs);
        add_block(p, W, 6, 6, tmpC, 4);
      }
    }
  }
}

/** yc tiles = Aᵀ M[·][k][t] A. */
export function output_transform(yc: usize, M: usize, N: i32, Cout: i32, H: i32, W: i32): void {
  const OW = W - 2, TW = OW >> 2, TI = ((H - 2) >> 2) * TW, T = N * TI, P = (H - 2) * OW;
  const ms = plane(Cout * T), rs = <usize>OW << 2;
  for (let k = 0; k < Cout; k++) {
    const src = M + (<usize>(k * T) << 2);
    let t = 0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= T; t += 4) {
        output_tile<v128>(tmpC, 16, 64, src + (<usize>t << 2), ms);
        // tmpC[r][s] holds four tiles' values: transpose each row into the tiles
        const d0 = output_tile_at(yc, t, TI, TW, k, N, P, OW), d1 = output_tile_at(yc, t + 1, TI, TW, k, N, P, OW);
        const d2 = output_tile_at(yc, t + 2, TI, TW, k, N, P, OW), d3 = output_tile_at(yc, t + 3, TI, TW, k, N, P, OW);
        for (let r = 0; r < 4; r++) {
          const s = tmpC + (<usize>r << 6), o = <usize>r * rs;
          transpose4_to(d0 + o, d1 + o, d2 + o, d3 + o, v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48));
        }
      }
    }
    for (; t < T; t++) output_tile<f32>(output_tile_at(yc, t, TI, TW, k, N, P, OW), 4, rs, src + (<usize>t << 2), ms);
  }
}

/** dM[·][k][t] = A dY Aᵀ for every 4×4 tile dY of dyc. */
export function output_grad_transform(dM: usize, dyc: usize, N: i32, Cout: i32, H: i32, W: i32): void {
  const OW = W - 2, TW = OW >> 2, TI = ((H - 2) >> 2) * TW, T = N * TI, P = (H - 2) * OW;
  const ms = plane(Cout * T), rs = <usize>OW << 2;
  for (let k = 0; k < Cout; k++) {
    const dst = dM + (<usize>(k * T) << 2);
    let t = 0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= T; t += 4) {
        const s0 = output_tile_at(dyc, t, TI, TW, k, N, P, OW), s1 = output_tile_at(dyc, t + 1, TI, TW, k, N, P, OW);
        const s2 = output_tile_at(dyc, t + 2, TI, TW, k, N, P, OW), s3 = output_tile_at(dyc, t + 3, TI, TW, k, N, P, OW);
        for (let r = 0; r < 4; r++) {
          const o = <usize>r * rs;
          transpose4(tmpA + (<usize>r << 6), 16, v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o));
        }
        output_grad_tile<v128>(dst + (<usize>t << 2), ms, tmpA, 16, 64);
      }
    }
    for (; t < T; t++) output_grad_tile<f32>(dst + (<usize>t << 2), ms, output_tile_at(dyc, t, TI, TW, k, N, P, OW), 4, rs);
  }
}

// ---- one tile (or four, as vector lanes): column pass into tmpB, then row pass ----
// cs / rs: byte steps between a tile's columns / rows; xs: between transform points.

// @ts-ignore: decorator
@inline
function input_tile<T>(dst: usize, xs: usize, src: usize, cs: usize, rs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 6; j++) bt6<T>(tmpB + <usize>j * L, 6 * L, src + <usize>j * cs, rs);
  for (let i = 0; i < 6; i++) bt6<T>(dst + <usize>(i * 6) * xs, xs, tmpB + <usize>(i * 6) * L, L);
}

// @ts-ignore: decorator
@inline
function input_grad_tile<T>(dst: usize, cs: usize, rs: usize, src: usize, xs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 6; j++) b6<T>(tmpB + <usize>j * L, 6 * L, src + <usize>j * xs, 6 * xs);
  for (let i = 0; i < 6; i++) b6<T>(dst + <usize>i * rs, cs, tmpB + <usize>(i * 6) * L, L);
}

// @ts-ignore: decorator
@inline
function output_tile<T>(dst: usize, cs: usize, rs: usize, src: usize, xs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 6; j++) at6<T>(tmpB + <usize>j * L, 6 * L, src + <usize>j * xs, 6 * xs);
  for (let r = 0; r < 4; r++) at6<T>(dst + <usize>r * rs, cs, tmpB + <usize>(r * 6) * L, L);
}

// @ts-ignore: decorator
@inline
function output_grad_tile<T>(dst: usize, xs: usize, src: usize, cs: usize, rs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 4; j++) a4<T>(tmpB + <usize>j * L, 4 * L, src + <usize>j * cs, rs);
  for (let i = 0; i < 6; i++) a4<T>(dst + <usize>(i * 6) * xs, xs, tmpB + <usize>(i * 4) * L, L);
}

// @ts-ignore: decorator
@inline
function filter_tile<T>(dst: usize, xs: usize, src: usize, cs: usize, rs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 3; j++) g6<T>(tmpB + <usize>j * L, 3 * L, src + <usize>j * cs, rs);
  for (let i = 0; i < 6; i++) g6<T>(dst + <usize>(i * 6) * xs, xs, tmpB + <usize>(i * 3) * L, L);
}

// @ts-ignore: decorator
@inline
function filter_grad_tile<T>(dst: usize, cs: usize, rs: usize, src: usize, xs: usize): void {
  const L = <usize>sizeof<T>();
  for (let j = 0; j < 6; j++) gt6<T>(tmpB + <usize>j * L, 6 * L, src + <usize>j * xs, 6 * xs);
  for (let r = 0; r < 3; r++) gt6<T>(dst + <usize>r * rs, cs, tmpB + <usize>(r * 6) * L, L);
}

/** Byte address of tile t's 6×6 input window in channel c of [N, C, H, W]. */
// @ts-ignore: decorator
@inline
function input_tile_at(x: usize, t: i32, TI: i32, TW: i32, c: i32, C: i32, H: i32, W: i32): usize {
  const n = t / TI, r = t - n * TI, th = r / TW, tw = r - th * TW;
  return x + (<usize>(((n * C + c) * H + 4 * th) * W + 4 * tw) << 2);
}

/** Byte address of tile t's 4×4 output in channel k of the channel-major [C, N, OH, OW]. */
// @ts-ignore: decorator
@inline
function output_tile_at(yc: usize, t: i32, TI: i32, TW: i32, k: i32, N: i32, P: i32, OW: i32): usize {
  const n = t / TI, r = t - n * TI, th = r / TW, tw = r - th * TW;
  return yc + (<usize>((k * N + n) * P + 4 * th * OW + 4 * tw) << 2);
}

/** Rows a, b, c, d of a 4×4 block → its columns, stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline
function transpose4(dst: usize, step: usize, a: v128, b: v128, c: v128, d: v128): void {
  transpose4_to(dst, dst + step, dst + 2 * step, dst + 3 * step, a, b, c, d);
}

/** Rows a, b, c, d of a 4×4 block → its columns, stored at d0 … d3. */
// @ts-ignore: decorator
@inline
function transpose4_to(d0: usize, d1: usize, d2: usize, d3: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(d0, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d1, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d2, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d3, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/** d[rows × cols block, row stride ld floats] += s[rows·cols] (values `step` bytes apart). */
// @ts-ignore: decorator
@inline
function add_block(d: usize, ld: i32, rows: i32, cols: i32, s: usize, step: usize): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const p = d + (<usize>(i * ld + j) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(s + <usize>(i * cols + j) * step));
    }
  }
}

// ---- 1-D transforms: values at src, src+ss, … → dst, dst+ds, … ----
// Generic over f32 (one tile) and v128 (four tiles): same expression trees.

/** Bᵀ·d, 6 → 6. */
// @ts-ignore: decorator
@inline
function bt6<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const d0 = load<T>(src), d1 = load<T>(src + ss), d2 = load<T>(src + 2 * ss);
  const d3 = load<T>(src + 3 * ss), d4 = load<T>(src + 4 * ss), d5 = load<T>(src + 5 * ss);
  const a = sub<T>(d4, d2), b = sub<T>(d3, d1);
  store<T>(dst, add<T>(sub<T>(mul<T>(d0, 4), mul<T>(d2, 5)), d4));
  store<T>(dst + ds, sub<T>(add<T>(d3, d4), mul<T>(add<T>(d1, d2), 4)));
  store<T>(dst + 2 * ds, add<T>(sub<T>(d4, d3), mul<T>(sub<T>(d1, d2), 4)));
  store<T>(dst + 3 * ds, add<T>(a, mul<T>(b, 2)));
  store<T>(dst + 4 * ds, sub<T>(a, mul<T>(b, 2)));
  store<T>(dst + 5 * ds, add<T>(sub<T>(mul<T>(d1, 4), mul<T>(d3, 5)), d5));
}

/** B·v (the transpose of bt6), 6 → 6. */
// @ts-ignore: decorator
@inline
function b6<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const v0 = load<T>(src), v1 = load<T>(src + ss), v2 = load<T>(src + 2 * ss);
  const v3 = load<T>(src + 3 * ss), v4 = load<T>(src + 4 * ss), v5 = load<T>(src + 5 * ss);
  const p = add<T>(v1, v2), q = add<T>(v3, v4);
  store<T>(dst, mul<T>(v0, 4));
  store<T>(dst + ds, add<T>(add<T>(mul<T>(sub<T>(v2, v1), 4), mul<T>(sub<T>(v4, v3), 2)), mul<T>(v5, 4)));
  store<T>(dst + 2 * ds, neg<T>(add<T>(add<T>(mul<T>(v0, 5), mul<T>(p, 4)), q)));
  store<T>(dst + 3 * ds, sub<T>(add<T>(sub<T>(v1, v2), mul<T>(sub<T>(v3, v4), 2)), mul<T>(v5, 5)));
  store<T>(dst + 4 * ds, add<T>(add<T>(v0, p), q));
  store<T>(dst + 5 * ds, v5);
}

/** Aᵀ·m, 6 → 4. */
// @ts-ignore: decorator
@inline
function at6<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const m0 = load<T>(src), m1 = load<T>(src + ss), m2 = load<T>(src + 2 * ss);
  const m3 = load<T>(src + 3 * ss), m4 = load<T>(src + 4 * ss), m5 = load<T>(src + 5 * ss);
  const p = add<T>(m1, m2), q = sub<T>(m1, m2), r = add<T>(m3, m4), s = sub<T>(m3, m4);
  store<T>(dst, add<T>(add<T>(m0, p), r));
  store<T>(dst + ds, add<T>(q, mul<T>(s, 2)));
  store<T>(dst + 2 * ds, add<T>(p, mul<T>(r, 4)));
  store<T>(dst + 3 * ds, add<T>(add<T>(q, mul<T>(s, 8)), m5));
}

/** A·e (the transpose of at6), 4 → 6. */
// @ts-ignore: decorator
@inline
function a4<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const e0 = load<T>(src), e1 = load<T>(src + ss), e2 = load<T>(src + 2 * ss), e3 = load<T>(src + 3 * ss);
  const p = add<T>(e0, e2), q = add<T>(e1, e3), r = add<T>(e0, mul<T>(e2, 4)), s = add<T>(mul<T>(e1, 2), mul<T>(e3, 8));
  store<T>(dst, e0);
  store<T>(dst + ds, add<T>(p, q));
  store<T>(dst + 2 * ds, sub<T>(p, q));
  store<T>(dst + 3 * ds, add<T>(r, s));
  store<T>(dst + 4 * ds, sub<T>(r, s));
  store<T>(dst + 5 * ds, e3);
}

/** G·g, 3 → 6. */
// @ts-ignore: decorator
@inline
function g6<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const g0 = load<T>(src), g1 = load<T>(src + ss), g2 = load<T>(src + 2 * ss);
  const a = add<T>(mul<T>(g0, <f32>(1.0 / 24)), mul<T>(g2, <f32>(1.0 / 6))), b = mul<T>(g1, <f32>(1.0 / 12));
  store<T>(dst, mul<T>(g0, 0.25));
  store<T>(dst + ds, mul<T>(add<T>(add<T>(g0, g1), g2), <f32>(-1.0 / 6)));
  store<T>(dst + 2 * ds, mul<T>(add<T>(sub<T>(g0, g1), g2), <f32>(-1.0 / 6)));
  store<T>(dst + 3 * ds, add<T>(a, b));
  store<T>(dst + 4 * ds, sub<T>(a, b));
  store<T>(dst + 5 * ds, g2);
}

/** Gᵀ·u (the transpose of g6), 6 → 3. */
// @ts-ignore: decorator
@inline
function gt6<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const u0 = load<T>(src), u1 = load<T>(src + ss), u2 = load<T>(src + 2 * ss);
  const u3 = load<T>(src + 3 * ss), u4 = load<T>(src + 4 * ss), u5 = load<T>(src + 5 * ss);
  const p = add<T>(u1, u2), q = add<T>(u3, u4);
  store<T>(dst, add<T>(add<T>(mul<T>(u0, 0.25), mul<T>(p, <f32>(-1.0 / 6))), mul<T>(q, <f32>(1.0 / 24))));
  store<T>(dst + ds, add<T>(mul<T>(sub<T>(u1, u2), <f32>(-1.0 / 6)), mul<T>(sub<T>(u3, u4), <f32>(1.0 / 12))));
  store<T>(dst + 2 * ds, add<T>(add<T>(mul<T>(p, <f32>(-1.0 / 6)), mul<T>(q, <f32>(1.0 / 6))), u5));
}

// Lane-wise arithmetic on f32 or v128 (f32x4), chosen at compile time.
// @ts-ignore: decorator
@inline function add<T>(a: T, b: T): T { if (isVector<T>()) return <T>f32x4.add(<v128>a, <v128>b); else return <T>(<f32>a + <f32>b); }
// @ts-ignore: decorator
@inline function sub<T>(a: T, b: T): T { if (isVector<T>()) return <T>f32x4.sub(<v128>a, <v128>b); else return <T>(<f32>a - <f32>b); }
// @ts-ignore: decorator
@inline function neg<T>(a: T): T { if (isVector<T>()) return <T>f32x4.neg(<v128>a); else return <T>(-<f32>a); }
// @ts-ignore: decorator
@inline function mul<T>(a: T, c: f32): T { if (isVector<T>()) return <T>f32x4.mul(<v128>a, f32x4.splat(c)); else return <T>(<f32>a * c); }
