// 3×3 and 5×5 convolutions (stride 1, no padding) by Winograd's minimal
// filtering (Lavin & Gray, 2016): F(4×4, 3×3) and F(2×2, 5×5). Each m×m output
// tile (m = 4 for r = 3, m = 2 for r = 5) is
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// for its 6×6 input tile d and r×r filter g, so over Cin channels a tile costs
// 36 products per (Cout, Cin) pair instead of 144 (3×3) or 100 (5×5): the work
// is 36 matrix multiplies M[ξ] = U[ξ]·V[ξ] of [Cout×Cin]·[Cin×T] over the T
// tiles, one per point ξ of the 6×6 transformed domain. The backward pass is
// the transpose of that linear map (dU = dM·Vᵀ, dV = Uᵀ·dM), so it saves as much.
//
// Both use the points 0, ±1, ±2, ∞: Bᵀ (the inverse Vandermonde's transpose)
// depends only on them, so the input transforms are shared; G and Aᵀ are the
// Vandermonde rows of degree r − 1 and m − 1, G's rows scaled to match Bᵀ.
//
// Layouts: U [36][Cout][Cin], V and dV [36][Cin][T], M and dM [36][Cout][T],
// each of the 36 planes padded; the output (and its gradient) is NCHW for a
// plain convolution or channel-major [Cout][N·OH·OW] for conv.ts's batch norm.
// Transforms run four tiles to a vector in the SIMD build and one tile at a
// time in the scalar build, through the same generic code: the same operations
// in the same order, so both builds give bit-identical results.
import { gemm, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } from "./gemm";
import { few_product, few_product_t, few_lane_sums, few_lane_totals } from "./few";
// transform staging, per thread: 36 values of one tile group (a vector or a float each)
import { stageA as tmpA, stageB as tmpB, stageC as tmpC } from "./workspace";
import { barrier, part_from, part_to } from "./threads";
import { forward1, windows4, grad_at4, spread1 } from "./pool";
import { where_positive, where_positive4 } from "./activation";

/** Floats of one block of products (block_tiles): 256 KB, half of a core's L2 here (32768 and 131072: slower on LeNet's conv2). */
const BLOCK_FLOATS: i32 = 65536;

/** Winograd needs output sides that are multiples of 4; it pays once the channel products dominate. */
export function winograd_applies(Cin: i32, H: i32, W: i32): bool {
  return Cin >= 8 && (H - 2) % 4 == 0 && (W - 2) % 4 == 0 && H > 2 && W > 2;
}

/** Output tile side m for an r×r filter (r = 3 or 5): the 6×6 input tile holds m + r − 1. */
// @ts-ignore: decorator
@inline
function tile_side(r: i32): i32 {
  return 7 - r;
}

/** Tiles of one image: the output (H − r + 1)×(W − r + 1) in m×m blocks. */
// @ts-ignore: decorator
@inline
function image_tiles(H: i32, W: i32, r: i32): i32 {
  const m = tile_side(r);
  return ((H - r + 1) / m) * ((W - r + 1) / m);
}

/** Floats of workspace: V, U, M (dM in backward), dU and the weight products' sums (weight_sums), for an r×r filter. */
export function winograd_workspace(N: i32, Cin: i32, H: i32, W: i32, Cout: i32, r: i32): i32 {
  const T = N * image_tiles(H, W, r), sums = weight_sums(Cin, Cout);
  return 36 * (Cin * T + 2 * Cout * Cin + Cout * T + 4 * 16) + 2 * T + (sums > 0 ? 36 * (sums + 16) : 0); // planes padded by 16 floats; two tile tables
}

/**
 * Few input channels: the 36 products run on few.ts's kernels, which hold the
 * Cin rows in registers, instead of gemm's panels (LeNet's conv2, 6 inputs).
 */
// @ts-ignore: decorator
@inline
function few_channels(Cin: i32): bool {
  return Cin <= 8;
}

/** Floats per point ξ of the weight products' own sums: four lane sums per weight (few channels), dUᵀ (transposed), else none. */
// @ts-ignore: decorator
@inline
function weight_sums(Cin: i32, Cout: i32): i32 {
  return few_channels(Cin) ? 4 * Cout * Cin : weight_grad_transposed(Cin, Cout) ? Cout * Cin : 0;
}

/**
 * The weight products dU[ξ] = dM[ξ]·V[ξ]ᵀ run 16 columns to a panel: with few
 * input channels (Cin columns) most of each panel is padding, so compute
 * dU[ξ]ᵀ = V[ξ]·dM[ξ]ᵀ (Cout columns) instead and transpose it, when its padded
 * size is smaller.
 */
// @ts-ignore: decorator
@inline
function weight_grad_transposed(Cin: i32, Cout: i32): bool {
  // padded sizes: rows in pairs, columns in panels of 16
  return ((Cin + 1) & ~1) * ((Cout + 15) & ~15) < ((Cout + 1) & ~1) * ((Cin + 15) & ~15);
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


/**
 * The T tiles of a call, as byte offsets: tin[t] of the tile's 6×6 input window
 * from its channel's plane in [N, C, H, W]; tout[t] of its m×m output block from
 * its channel's start, images `outImage` floats apart (OH·OW in a channel-major
 * [C, N·OH·OW], C·OH·OW in NCHW); `pooled`: of its first 2×2 pooling window in
 * an NCHW [N, C, OH/2, OW/2]. Tables spare the transforms a division per tile.
 */
export function tile_tables(tin: usize, tout: usize, n0: i32, n1: i32, C: i32, H: i32, W: i32, outImage: i32, r: i32, pooled: bool): void {
  const OH = H - r + 1, OW = W - r + 1, m = tile_side(r), tiles = image_tiles(H, W, r);
  let t: usize = <usize>(n0 * tiles);
  for (let n = n0; n < n1; n++) {
    for (let th = 0; th < OH; th += m) {
      for (let tw = 0; tw < OW; tw += m) {
        store<u32>(tin + (t << 2), ((n * C * H + th) * W + tw) << 2);
        // pooled: the place in its image's pooled plane of the tile's first (top-left) window
        store<u32>(tout + (t << 2), (n * outImage + (pooled ? (th >> 1) * (OW >> 1) + (tw >> 1) : th * OW + tw)) << 2);
        t++;
      }
    }
  }
}

/**
 * y: the convolution of x: [N, Cin, H, W] with w: [Cout, Cin, r, r] (r = 3 or 5), plus bias: [Cout]
 * unless bias is 0; NCHW [N, Cout, OH, OW] if nchw, else channel-major [Cout, N·OH·OW].
 * With idx (NCHW): y [N, Cout, OH/2, OW/2] is instead ReLU and 2×2 max pooling
 * of it, idx the windows' argmax (pool.ts's): a tile holds (m/2)² whole windows.
 * ws: workspace (V and U kept for backward, unless `keep` is false: no
 * backward follows). Split over `parts` threads: each transforms its share of
 * the filters, then (once U is whole) its images' tiles end to end; the
 * products are column blocks of the same sums.
 */
export function winograd_product(y: usize, idx: usize, ws: usize, x: usize, w: usize, bias: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, r: i32, nchw: bool, keep: bool, part: i32, parts: i32): void {
  const tiles = image_tiles(H, W, r), T = N * tiles, OW = W - r + 1, P = (H - r + 1) * OW;
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * T);
  const V = ws, U = V + 36 * vs, M = U + 36 * us, tin = M + 36 * ms + 36 * us, tout = tin + (<usize>T << 2);
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts), t0 = n0 * tiles, t1 = n1 * tiles;
  const channel = output_channel(N, P, nchw, idx != 0);
  tile_tables(tin, tout, n0, n1, Cin, H, W, nchw ? Cout * channel : P, r, idx != 0);
  filter_transform(U, w, Cout, Cin, r, part_from(Cout * Cin, 4, part, parts), part_to(Cout * Cin, 4, part, parts));
  barrier(parts);
  // with few channels, tiles in blocks whose products (36 planes of Cout × TB) stay in cache until
  // the output transform reads them: each thread its own block of M's space if M holds them all;
  // otherwise (or with many channels) the thread's share of M in one block. V too, when not kept
  // (evaluation: LeNet's conv2 891 → 804 µs with the caches flushed)
  const TB = block_tiles(Cout), compact = blocked(Cin, Cout) && parts * (Cout * TB + 16) <= Cout * T + 16;
  const L = compact ? TB : T, B = compact ? TB : max(1, t1 - t0), Mb = compact ? M + <usize>(part * 36) * plane(Cout * TB) : M + (<usize>t0 << 2), mbs = plane(Cout * L);
  const vblocks = compact && !keep && parts * (Cin * TB + 16) <= Cin * T + 16, LV = vblocks ? TB : T;
  const Vb = vblocks ? V + <usize>(part * 36) * plane(Cin * TB) : V, vbs = plane(Cin * LV);
  for (let b0 = t0; b0 < t1; b0 += B) {
    const b1 = min(t1, b0 + B), Vt = vblocks ? Vb - (<usize>b0 << 2) : V; // tile t at column t of planes of LV
    input_transform(Vt, x, tin, LV, b0, b1, Cin, H, W);
    for (let xi: usize = 0; xi < 36; xi++) {
      const m = Mb + xi * mbs, u = U + xi * us, v = Vt + xi * vbs + (<usize>b0 << 2);
      if (few_channels(Cin)) few_product(m, L, u, v, LV, Cout, Cin, b1 - b0);
      else gemm(m, u, v, Cout, b1 - b0, Cin, Cin, LV, L, 0);
    }
    output_transform(y, idx, Mb - (<usize>b0 << 2), bias, tout, L, b0, b1, Cout, channel, OW, r);
  }
}

/** Floats between the channels of winograd_product's y (P outputs per image and channel): NCHW, channel-major, or pooled NCHW. */
// @ts-ignore: decorator
@inline
function output_channel(N: i32, P: i32, nchw: bool, pooled: bool): i32 {
  return pooled ? P >> 2 : nchw ? P : N * P;
}

/** Tiles per block: its products, 36 planes of Cout × TB floats, about BLOCK_FLOATS (a multiple of 16 tiles: gemm's panels). */
// @ts-ignore: decorator
@inline
function block_tiles(Cout: i32): i32 {
  return max(16, (BLOCK_FLOATS / (36 * Cout)) & ~15);
}

/**
 * Whether tiles go in blocks: with few channels the products are cheap beside
 * writing and reading M (Cin multiply-adds per float of M), and the weight
 * products' sums (36·Cout·Cin floats, read and written once a block backward)
 * are small beside a block. LeNet's conv2 (6 → 16): forward 1256 → 885 µs,
 * backward 2301 → 1370 (caches flushed between calls, as in a model); the
 * study's conv2 (32 → 64, batch 200): 3–7 % slower in blocks, so not.
 */
// @ts-ignore: decorator
@inline
function blocked(Cin: i32, Cout: i32): bool {
  return 36 * Cout * Cin <= BLOCK_FLOATS / 4;
}

/**
 * dw: [Cout, Cin, r, r] += ; dx: [N, Cin, H, W] overwritten (skipped when 0);
 * dy: the product's gradient, laid out as winograd_product's y (with idx: the
 * pooled gradient, yp and idx the pooled forward's outputs); ws: from
 * winograd_product with the same sizes and layout (V, U and the tile tables;
 * V is overwritten by dV when dx != 0). Split over `parts` threads: output
 * gradients by images; the weight products (sums over every tile) by whole
 * points ξ; the filter gradients by filters; dV and dx by images again.
 */
export function winograd_product_backward(dx: usize, dw: usize, dy: usize, yp: usize, idx: usize, ws: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, r: i32, nchw: bool, part: i32, parts: i32): void {
  const tiles = image_tiles(H, W, r), T = N * tiles, OW = W - r + 1, P = (H - r + 1) * OW, channel = output_channel(N, P, nchw, idx != 0);
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * T);
  const V = ws, U = V + 36 * vs, dM = U + 36 * us, dU = dM + 36 * ms, tin = dU + 36 * us, tout = tin + (<usize>T << 2), sums = tout + (<usize>T << 2);
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts), t0 = n0 * tiles, t1 = n1 * tiles;
  const single = tiles == 1; // one tile per image covers it exactly once: dx is stored, not added onto zeros
  if (dx != 0 && !single) memory.fill(dx + (<usize>(n0 * Cin * H * W) << 2), 0, <usize>((n1 - n0) * Cin * H * W) << 2);
  const TB = block_tiles(Cout);
  if (parts == 1 && TB < T && blocked(Cin, Cout)) {
    // one thread: tiles in blocks, each block's output gradient taken through the weight products
    // (their sums continued block after block, in tile order, as one product over every tile would)
    // and back to dV and dx while it is in cache
    const mbs = plane(Cout * TB);
    for (let b0 = 0; b0 < T; b0 += TB) {
      const b1 = min(T, b0 + TB), Mb = dM - (<usize>b0 << 2);
      output_grad_transform(Mb, dy, yp, idx, tout, TB, b0, b1, Cout, channel, OW, r);
      weight_products(sums, dU, Mb, V, TB, T, b0, b1, Cin, Cout, 0, 36);
      if (dx != 0) {
        input_grads(V, U, Mb, TB, T, b0, b1, Cin, Cout);
        input_grad_transform(dx, V, tin, T, b0, b1, single, Cin, H, W);
      }
    }
    weight_products_total(dU, sums, Cin, Cout, 0, 36);
    filter_grad_transform(dw, dU, Cout, Cin, r, 0, Cout * Cin);
    return;
  }
  output_grad_transform(dM, dy, yp, idx, tout, T, t0, t1, Cout, channel, OW, r);
  barrier(parts);
  const xi0 = part_from(36, 1, part, parts), xi1 = part_to(36, 1, part, parts);
  weight_products(sums, dU, dM, V, T, T, 0, T, Cin, Cout, xi0, xi1);
  weight_products_total(dU, sums, Cin, Cout, xi0, xi1);
  barrier(parts); // dU whole, and V read by every thread's products: from here V may become dV
  filter_grad_transform(dw, dU, Cout, Cin, r, part_from(Cout * Cin, 4, part, parts), part_to(Cout * Cin, 4, part, parts));
  if (dx == 0) return;
  input_grads(V, U, dM, T, T, t0, t1, Cin, Cout);
  input_grad_transform(dx, V, tin, T, t0, t1, single, Cin, H, W);
}

/** dV[ξ] = U[ξ]ᵀ·dM[ξ] for the tiles b0 … b1 − 1, into V's columns (V read by the weight products first); dM as weight_products'. */
function input_grads(V: usize, U: usize, dM: usize, L: i32, T: i32, b0: i32, b1: i32, Cin: i32, Cout: i32): void {
  if (b1 <= b0) return;
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * L), off = <usize>b0 << 2;
  for (let xi: usize = 0; xi < 36; xi++) {
    const v = V + xi * vs + off, u = U + xi * us, m = dM + xi * ms + off;
    if (few_channels(Cin)) few_product_t(v, T, u, m, L, Cout, Cin, b1 - b0);
    else gemm(v, u, m, Cin, b1 - b0, Cout, Cin, L, T, GEMM_TRANS_A);
  }
}

/**
 * The weight products dU[ξ] = dM[ξ]·V[ξ]ᵀ for ξ0 … ξ1 − 1, summed over the tiles
 * b0 … b1 − 1 and continued from the tiles before b0 (started at b0 = 0): as
 * four lane sums per weight (few channels) or dU[ξ]ᵀ (transposed) in `sums`,
 * else straight into dU; weight_products_total finishes them. dM: planes of
 * Cout rows of L floats, tile t at column t (the pointer set back by b0 for a block).
 */
function weight_products(sums: usize, dU: usize, dM: usize, V: usize, L: i32, T: i32, b0: i32, b1: i32, Cin: i32, Cout: i32, xi0: i32, xi1: i32): void {
  const vs = plane(Cin * T), us = plane(Cout * Cin), ms = plane(Cout * L), ss = plane(weight_sums(Cin, Cout)), off = <usize>b0 << 2;
  const flags = GEMM_TRANS_B | (b0 > 0 ? GEMM_ACCUMULATE : 0), n = b1 - b0;
  for (let xi = <usize>xi0; xi < <usize>xi1; xi++) {
    const m = dM + xi * ms + off, v = V + xi * vs + off;
    if (few_channels(Cin)) few_lane_sums(sums + xi * ss, m, L, v, T, Cout, Cin, n, b0 > 0);
    else if (weight_grad_transposed(Cin, Cout)) gemm(sums + xi * ss, v, m, Cin, Cout, n, T, L, Cout, flags);
    else gemm(dU + xi * us, m, v, Cout, Cin, n, L, T, Cin, flags);
  }
}

/** dU[ξ] for ξ0 … ξ1 − 1 from the weight products' sums: the lane sums added up, or dUᵀ transposed. */
function weight_products_total(dU: usize, sums: usize, Cin: i32, Cout: i32, xi0: i32, xi1: i32): void {
  const us = plane(Cout * Cin), ss = plane(weight_sums(Cin, Cout));
  for (let xi = <usize>xi0; xi < <usize>xi1; xi++) {
    const t = sums + xi * ss, d = dU + xi * us;
    if (few_channels(Cin)) {
      few_lane_totals(d, t, Cout * Cin);
    } else if (weight_grad_transposed(Cin, Cout)) {
      for (let k = 0; k < Cout; k++) {
        for (let c = 0; c < Cin; c++) store<f32>(d + (<usize>(k * Cin + c) << 2), load<f32>(t + (<usize>(c * Cout + k) << 2)));
      }
    }
  }
}

// ---- the transforms of filters, input tiles and output tiles, each with its transpose ----

/** U[ξ][k][c] = (G g Gᵀ)[ξ] for the r×r filters g = w[k, c] numbered f0 … f1 − 1 (k·Cin + c). */
export function filter_transform(U: usize, w: usize, Cout: i32, Cin: i32, r: i32, f0: i32, f1: i32): void {
  const us = plane(Cout * Cin), F = f1, rr = r * r, fb = rr << 2;
  let f = f0;
  if (ASC_FEATURE_SIMD) {
    for (; f + 4 <= F; f += 4) {
      const g = w + (<usize>(f * rr) << 2); // four filters' floats: lane l takes filter f + l
      for (let p = 0; p < rr; p++) {
        const o = g + (<usize>p << 2);
        let v = f32x4.splat(load<f32>(o));
        v = f32x4.replace_lane(v, 1, load<f32>(o + fb));
        v = f32x4.replace_lane(v, 2, load<f32>(o + 2 * fb));
        v = f32x4.replace_lane(v, 3, load<f32>(o + 3 * fb));
        v128.store(tmpA + (<usize>p << 4), v);
      }
      filter_tile<v128>(U + (<usize>f << 2), us, tmpA, 16, <usize>(r * 16), r);
    }
  }
  for (; f < F; f++) filter_tile<f32>(U + (<usize>f << 2), us, w + (<usize>(f * rr) << 2), 4, <usize>(r * 4), r);
}

/** dw[k, c] += Gᵀ dU[·][k][c] G for the r×r filters f0 … f1 − 1. */
export function filter_grad_transform(dw: usize, dU: usize, Cout: i32, Cin: i32, r: i32, f0: i32, f1: i32): void {
  const us = plane(Cout * Cin), F = f1, rr = r * r;
  let f = f0;
  if (ASC_FEATURE_SIMD) {
    for (; f + 4 <= F; f += 4) {
      filter_grad_tile<v128>(tmpC, 16, <usize>(r * 16), dU + (<usize>f << 2), us, r);
      for (let l = 0; l < 4; l++) add_block(dw + (<usize>((f + l) * rr) << 2), r, r, r, tmpC + (<usize>l << 2), 16);
    }
  }
  for (; f < F; f++) {
    filter_grad_tile<f32>(tmpC, 4, <usize>(r * 4), dU + (<usize>f << 2), us, r);
    add_block(dw + (<usize>(f * rr) << 2), r, r, r, tmpC, 4);
  }
}

/** V[ξ][c][t] = (Bᵀ d B)[ξ] for the input tiles t0 … t1 − 1 of x: [N, Cin, H, W] (rows first, then columns). */
export function input_transform(V: usize, x: usize, tin: usize, T: i32, t0: i32, t1: i32, Cin: i32, H: i32, W: i32): void {
  const vs = plane(Cin * T), rs = <usize>W << 2;
  for (let c = 0; c < Cin; c++) {
    const xc = x + (<usize>(c * H * W) << 2), dst = V + (<usize>(c * T) << 2);
    let t = t0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= t1; t += 4) {
        const tab = tin + (<usize>t << 2);
        const p0 = xc + load<u32>(tab), p1 = xc + load<u32>(tab, 4), p2 = xc + load<u32>(tab, 8), p3 = xc + load<u32>(tab, 12);
        for (let i = 0; i < 6; i++) {
          // row i of the four windows as six columns: 0–3 by a 4×4 transpose, 4–5 from 64-bit loads
          const o = <usize>i * rs;
          const a = v128.load(p0 + o), b = v128.load(p1 + o), c = v128.load(p2 + o), d = v128.load(p3 + o);
          const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
          const u = v128.shuffle<f32>(v128.load64_zero(p0 + o, 16), v128.load64_zero(p1 + o, 16), 0, 4, 1, 5);
          const v = v128.shuffle<f32>(v128.load64_zero(p2 + o, 16), v128.load64_zero(p3 + o, 16), 0, 4, 1, 5);
          bt6<v128>(tmpB + <usize>(i * 96), 16,
            v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7),
            v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), v128.shuffle<f32>(t2, t3, 2, 3, 6, 7),
            v128.shuffle<f32>(u, v, 0, 1, 4, 5), v128.shuffle<f32>(u, v, 2, 3, 6, 7));
        }
        for (let j = 0; j < 6; j++) bt6_at<v128>(dst + (<usize>t << 2) + <usize>j * vs, 6 * vs, tmpB + <usize>(j * 16), 96);
      }
    }
    for (; t < t1; t++) {
      const p = xc + load<u32>(tin + (<usize>t << 2));
      for (let i = 0; i < 6; i++) bt6_at<f32>(tmpB + <usize>(i * 24), 4, p + <usize>i * rs, 4);
      for (let j = 0; j < 6; j++) bt6_at<f32>(dst + (<usize>t << 2) + <usize>j * vs, 6 * vs, tmpB + <usize>(j * 4), 24);
    }
  }
}

/**
 * dx = Σ over tiles of B dV[·][c][t] Bᵀ (columns first, then rows), placed at each
 * tile's 6×6 window of dx: [N, Cin, H, W], for the tiles t0 … t1 − 1: stored when
 * each image has a `single` tile, else added onto dx (zeroed by the caller) tile by
 * tile, in order, overlapping windows adding.
 */
export function input_grad_transform(dx: usize, dV: usize, tin: usize, T: i32, t0: i32, t1: i32, single: bool, Cin: i32, H: i32, W: i32): void {
  const vs = plane(Cin * T), rs = <usize>W << 2;
  for (let c = 0; c < Cin; c++) {
    const src = dV + (<usize>(c * T) << 2), dxc = dx + (<usize>(c * H * W) << 2);
    let t = t0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= t1; t += 4) {
        for (let j = 0; j < 6; j++) b6_at<v128>(tmpB + <usize>(j * 16), 96, src + (<usize>t << 2) + <usize>j * vs, 6 * vs);
        for (let i = 0; i < 6; i++) b6_at<v128>(tmpC + <usize>(i * 96), 16, tmpB + <usize>(i * 96), 16);
        const tab = tin + (<usize>t << 2);
        const p0 = dxc + load<u32>(tab), p1 = dxc + load<u32>(tab, 4), p2 = dxc + load<u32>(tab, 8), p3 = dxc + load<u32>(tab, 12);
        if (single) {
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
          // overlapping tiles add tile by tile, in order (as the scalar build does): each tile's
          // rows of six, transposed out of the lanes into tmpB ([tile][row][6]), as a vector and a pair
          for (let i = 0; i < 6; i++) {
            const s = tmpC + <usize>(i * 96), o = tmpB + <usize>(i * 24);
            transpose4_to(o, o + 144, o + 288, o + 432, v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48));
            const c4 = v128.load(s, 64), c5 = v128.load(s, 80);
            const u = v128.shuffle<f32>(c4, c5, 0, 4, 1, 5), v = v128.shuffle<f32>(c4, c5, 2, 6, 3, 7);
            v128.store64_lane(o + 16, u, 0);
            v128.store64_lane(o + 160, u, 1);
            v128.store64_lane(o + 304, v, 0);
            v128.store64_lane(o + 448, v, 1);
          }
          add_tile_rows(p0, rs, tmpB);
          add_tile_rows(p1, rs, tmpB + 144);
          add_tile_rows(p2, rs, tmpB + 288);
          add_tile_rows(p3, rs, tmpB + 432);
        }
      }
    }
    for (; t < t1; t++) {
      const p = dxc + load<u32>(tin + (<usize>t << 2));
      for (let j = 0; j < 6; j++) b6_at<f32>(tmpB + <usize>(j * 4), 24, src + (<usize>t << 2) + <usize>j * vs, 6 * vs);
      if (single) {
        for (let i = 0; i < 6; i++) b6_at<f32>(p + <usize>i * rs, 4, tmpB + <usize>(i * 24), 4);
      } else {
        for (let i = 0; i < 6; i++) b6_at<f32>(tmpC + <usize>(i * 24), 4, tmpB + <usize>(i * 24), 4);
        add_block(p, W, 6, 6, tmpC, 4);
      }
    }
  }
}

/**
 * y tiles = Aᵀ M[·][k][t] A (columns first, then rows) + bias[k] (unless bias is 0);
 * channel k starts `channel` floats after y's, its m×m tiles at tout's offsets.
 * With idx: each 2×2 window's ReLU'd max to y, its argmax to idx (pool.ts's
 * forward), from tout's pooled offsets.
 */
export function output_transform(y: usize, idx: usize, M: usize, bias: usize, tout: usize, T: i32, t0: i32, t1: i32, Cout: i32, channel: i32, OW: i32, r: i32): void {
  // one body, compiled once per tile side (m a constant in each), pooled or not
  if (idx != 0 && r == 5) output_tiles(y, M, bias, tout, T, t0, t1, Cout, channel, OW, 2, idx);
  else if (idx != 0) output_tiles(y, M, bias, tout, T, t0, t1, Cout, channel, OW, 4, idx);
  else if (r == 5) output_tiles(y, M, bias, tout, T, t0, t1, Cout, channel, OW, 2, 0);
  else output_tiles(y, M, bias, tout, T, t0, t1, Cout, channel, OW, 4, 0);
}

// @ts-ignore: decorator
@inline
function output_tiles(y: usize, M: usize, bias: usize, tout: usize, T: i32, t0: i32, t1: i32, Cout: i32, channel: i32, OW: i32, m: i32, idx: usize): void {
  const ms = plane(Cout * T), rs = <usize>OW << 2, pooled = idx != 0;
  for (let k = 0; k < Cout; k++) {
    const src = M + (<usize>(k * T) << 2), yk = y + (<usize>(k * channel) << 2), ik = idx + (<usize>(k * channel) << 2);
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>k << 2)) : 0;
    let t = t0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= t1; t += 4) {
        for (let j = 0; j < 6; j++) at_at<v128>(m, tmpB + <usize>(j * 16), 96, src + (<usize>t << 2) + <usize>j * ms, 6 * ms);
        for (let i = 0; i < m; i++) at_at<v128>(m, tmpC + <usize>(i * 16 * m), 16, tmpB + <usize>(i * 96), 16);
        // tmpC[i][s] holds four tiles' values: each row goes back into the tiles
        const tab = tout + (<usize>t << 2);
        const bv = f32x4.splat(b);
        if (pooled) {
          // each window position of the four tiles: pooled into the staging buffer, then each to its place
          for (let a = 0; a < m; a += 2) {
            for (let c = 0; c < m; c += 2) {
              const s = tmpC + <usize>(16 * (a * m + c)), w = <usize>((a >> 1) * (OW >> 1) + (c >> 1)) << 2;
              windows4(tmpA, tmpA + 16, f32x4.add(v128.load(s), bv), f32x4.add(v128.load(s, 16), bv), f32x4.add(v128.load(s + <usize>(16 * m)), bv), f32x4.add(v128.load(s + <usize>(16 * m), 16), bv));
              for (let j: usize = 0; j < 16; j += 4) {
                const o = <usize>load<u32>(tab + j) + w;
                store<u32>(yk + o, load<u32>(tmpA + j));
                store<u32>(ik + o, load<u32>(tmpA + j, 16));
              }
            }
          }
          continue;
        }
        const d0 = yk + load<u32>(tab), d1 = yk + load<u32>(tab, 4), d2 = yk + load<u32>(tab, 8), d3 = yk + load<u32>(tab, 12);
        for (let i = 0; i < m; i++) {
          const s = tmpC + <usize>(i * 16 * m), o = <usize>i * rs;
          const c0 = f32x4.add(v128.load(s), bv), c1 = f32x4.add(v128.load(s, 16), bv);
          if (m == 4) {
            transpose4_to(d0 + o, d1 + o, d2 + o, d3 + o, c0, c1, f32x4.add(v128.load(s, 32), bv), f32x4.add(v128.load(s, 48), bv));
          } else {
            const u = v128.shuffle<f32>(c0, c1, 0, 4, 1, 5), v = v128.shuffle<f32>(c0, c1, 2, 6, 3, 7);
            v128.store64_lane(d0 + o, u, 0);
            v128.store64_lane(d1 + o, u, 1);
            v128.store64_lane(d2 + o, v, 0);
            v128.store64_lane(d3 + o, v, 1);
          }
        }
      }
    }
    for (; t < t1; t++) {
      const d = yk + load<u32>(tout + (<usize>t << 2));
      for (let j = 0; j < 6; j++) at_at<f32>(m, tmpB + <usize>(j * 4), 24, src + (<usize>t << 2) + <usize>j * ms, 6 * ms);
      for (let i = 0; i < m; i++) at_at<f32>(m, tmpC + <usize>(i * 4 * m), 4, tmpB + <usize>(i * 24), 4);
      if (pooled) {
        for (let a = 0; a < m; a += 2) {
          for (let c = 0; c < m; c += 2) {
            const s = tmpC + <usize>(4 * (a * m + c)), o = <usize>load<u32>(tout + (<usize>t << 2)) + (<usize>((a >> 1) * (OW >> 1) + (c >> 1)) << 2);
            forward1(yk + o, ik + o, load<f32>(s) + b, load<f32>(s, 4) + b, load<f32>(s + <usize>(4 * m)) + b, load<f32>(s + <usize>(4 * m), 4) + b);
          }
        }
        continue;
      }
      for (let i = 0; i < m; i++) {
        for (let s = 0; s < m; s++) store<f32>(d + <usize>i * rs + (<usize>s << 2), load<f32>(tmpC + <usize>(i * 4 * m + s * 4)) + b);
      }
    }
  }
}

/**
 * dM[·][k][t] = A dY Aᵀ (rows first, then columns) for the m×m tiles t0 … t1 − 1 of dy, laid out as
 * output_transform's y; with idx, dY is the tile's part of the pooled gradient dy (pool.ts's backward:
 * dy where yp > 0, at the window's argmax, zeros elsewhere).
 */
export function output_grad_transform(dM: usize, dy: usize, yp: usize, idx: usize, tout: usize, T: i32, t0: i32, t1: i32, Cout: i32, channel: i32, OW: i32, r: i32): void {
  if (idx != 0 && r == 5) output_grad_tiles(dM, dy, yp, idx, tout, T, t0, t1, Cout, channel, OW, 2);
  else if (idx != 0) output_grad_tiles(dM, dy, yp, idx, tout, T, t0, t1, Cout, channel, OW, 4);
  else if (r == 5) output_grad_tiles(dM, dy, 0, 0, tout, T, t0, t1, Cout, channel, OW, 2);
  else output_grad_tiles(dM, dy, 0, 0, tout, T, t0, t1, Cout, channel, OW, 4);
}

// @ts-ignore: decorator
@inline
function output_grad_tiles(dM: usize, dy: usize, yp: usize, idx: usize, tout: usize, T: i32, t0: i32, t1: i32, Cout: i32, channel: i32, OW: i32, m: i32): void {
  const ms = plane(Cout * T), rs = <usize>OW << 2, pooled = idx != 0, co = <usize>channel << 2; // bytes between channels
  for (let k = 0; k < Cout; k++) {
    const dst = dM + (<usize>(k * T) << 2), yk = dy + (<usize>(k * channel) << 2);
    let t = t0;
    if (ASC_FEATURE_SIMD) {
      for (; t + 4 <= t1; t += 4) {
        const tab = tout + (<usize>t << 2);
        if (pooled) {
          // the four tiles' gradients, lane by lane: each window's (dy where yp > 0) at its argmax, zeros elsewhere,
          // staged as m rows of m vectors in tmpA (row i, column s: window (i/2, s/2), argmax code 2·(i & 1) + (s & 1))
          const kc = <usize>k * co;
          for (let a = 0; a < m; a += 2) {
            for (let c = 0; c < m; c += 2) {
              const w = <usize>((a >> 1) * (OW >> 1) + (c >> 1)) << 2;
              const o0 = <usize>load<u32>(tab) + w, o1 = <usize>load<u32>(tab, 4) + w, o2 = <usize>load<u32>(tab, 8) + w, o3 = <usize>load<u32>(tab, 12) + w;
              let g = f32x4.splat(0), e = i32x4.splat(0), v = f32x4.splat(0);
              g = v128.load32_lane(yk + o0, g, 0); g = v128.load32_lane(yk + o1, g, 1); g = v128.load32_lane(yk + o2, g, 2); g = v128.load32_lane(yk + o3, g, 3);
              v = v128.load32_lane(yp + kc + o0, v, 0); v = v128.load32_lane(yp + kc + o1, v, 1); v = v128.load32_lane(yp + kc + o2, v, 2); v = v128.load32_lane(yp + kc + o3, v, 3);
              e = v128.load32_lane(idx + kc + o0, e, 0); e = v128.load32_lane(idx + kc + o1, e, 1); e = v128.load32_lane(idx + kc + o2, e, 2); e = v128.load32_lane(idx + kc + o3, e, 3);
              g = where_positive4(g, v);
              const q = tmpA + <usize>(16 * (a * m + c));
              v128.store(q, grad_at4(g, e, 0));
              v128.store(q, grad_at4(g, e, 1), 16);
              v128.store(q + <usize>(16 * m), grad_at4(g, e, 2));
              v128.store(q + <usize>(16 * m), grad_at4(g, e, 3), 16);
            }
          }
          for (let i = 0; i < m; i++) {
            const q = tmpA + <usize>(16 * i * m);
            if (m == 4) a4<v128>(tmpB + <usize>(i * 96), 16, v128.load(q), v128.load(q, 16), v128.load(q, 32), v128.load(q, 48));
            else a2<v128>(tmpB + <usize>(i * 96), 16, v128.load(q), v128.load(q, 16));
          }
          for (let j = 0; j < 6; j++) a_at<v128>(m, dst + (<usize>t << 2) + <usize>j * ms, 6 * ms, tmpB + <usize>(j * 16), 96);
          continue;
        }
        const s0 = yk + load<u32>(tab), s1 = yk + load<u32>(tab, 4), s2 = yk + load<u32>(tab, 8), s3 = yk + load<u32>(tab, 12);
        for (let i = 0; i < m; i++) {
          // row i of the four tiles as m columns (a 4×4 transpose, or pairs)
          const o = <usize>i * rs;
          if (m == 4) {
            const a = v128.load(s0 + o), b = v128.load(s1 + o), c = v128.load(s2 + o), d = v128.load(s3 + o);
            const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
            a4<v128>(tmpB + <usize>(i * 96), 16,
              v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7),
              v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
          } else {
            const ab = v128.shuffle<f32>(v128.load64_zero(s0 + o), v128.load64_zero(s1 + o), 0, 4, 1, 5);
            const cd = v128.shuffle<f32>(v128.load64_zero(s2 + o), v128.load64_zero(s3 + o), 0, 4, 1, 5);
            a2<v128>(tmpB + <usize>(i * 96), 16, v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
          }
        }
        for (let j = 0; j < 6; j++) a_at<v128>(m, dst + (<usize>t << 2) + <usize>j * ms, 6 * ms, tmpB + <usize>(j * 16), 96);
      }
    }
    for (; t < t1; t++) {
      let p = yk + load<u32>(tout + (<usize>t << 2)), prs = rs;
      if (pooled) {
        // the tile's gradient written out (rows of m floats): each window's at its argmax, zeros elsewhere
        for (let a = 0; a < m; a += 2) {
          for (let c = 0; c < m; c += 2) {
            const o = <usize>k * co + <usize>load<u32>(tout + (<usize>t << 2)) + (<usize>((a >> 1) * (OW >> 1) + (c >> 1)) << 2), q = tmpA + <usize>(4 * (a * m + c));
            spread1(q, q + <usize>(4 * m), where_positive(dy, yp, o), load<i32>(idx + o));
          }
        }
        p = tmpA; prs = <usize>m << 2;
      }
      for (let i = 0; i < m; i++) a_at<f32>(m, tmpB + <usize>(i * 24), 4, p + <usize>i * prs, 4);
      for (let j = 0; j < 6; j++) a_at<f32>(m, dst + (<usize>t << 2) + <usize>j * ms, 6 * ms, tmpB + <usize>(j * 4), 24);
    }
  }
}

// ---- filters: one (or four, as vector lanes), columns first, then rows ----

// @ts-ignore: decorator
@inline
function filter_tile<T>(dst: usize, xs: usize, src: usize, cs: usize, rs: usize, r: i32): void {
  const L = <usize>sizeof<T>(), R = <usize>r;
  for (let j: usize = 0; j < R; j++) g_at<T>(r, tmpB + j * L, R * L, src + j * cs, rs);
  for (let i: usize = 0; i < 6; i++) g_at<T>(r, dst + i * 6 * xs, xs, tmpB + i * R * L, L);
}

// @ts-ignore: decorator
@inline
function filter_grad_tile<T>(dst: usize, cs: usize, rs: usize, src: usize, xs: usize, r: i32): void {
  const L = <usize>sizeof<T>();
  for (let j: usize = 0; j < 6; j++) gt_at<T>(r, tmpB + j * L, 6 * L, src + j * xs, 6 * xs);
  for (let i: usize = 0; i < <usize>r; i++) gt_at<T>(r, dst + i * rs, cs, tmpB + i * 6 * L, L);
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

/** The 6×6 block at d (rows rs bytes apart) += s[6][6]: each row as a vector and a pair. */
// @ts-ignore: decorator
@inline
function add_tile_rows(d: usize, rs: usize, s: usize): void {
  for (let i: usize = 0; i < 6; i++) {
    const q = d + i * rs, t = s + i * 24;
    v128.store(q, f32x4.add(v128.load(q), v128.load(t)));
    v128.store64_lane(q + 16, f32x4.add(v128.load64_zero(q + 16), v128.load64_zero(t + 16)), 0);
  }
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

// ---- 1-D transforms: values (or those at src, src+ss, …: the _at forms) → dst, dst+ds, … ----
// Generic over f32 (one tile) and v128 (four tiles): same expression trees.

/** Bᵀ·d, 6 → 6. */
// @ts-ignore: decorator
@inline
function bt6_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  bt6<T>(dst, ds, load<T>(src), load<T>(src + ss), load<T>(src + 2 * ss), load<T>(src + 3 * ss), load<T>(src + 4 * ss), load<T>(src + 5 * ss));
}

// @ts-ignore: decorator
@inline
function bt6<T>(dst: usize, ds: usize, d0: T, d1: T, d2: T, d3: T, d4: T, d5: T): void {
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
function b6_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
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
function at4_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const m0 = load<T>(src), m1 = load<T>(src + ss), m2 = load<T>(src + 2 * ss);
  const m3 = load<T>(src + 3 * ss), m4 = load<T>(src + 4 * ss), m5 = load<T>(src + 5 * ss);
  const p = add<T>(m1, m2), q = sub<T>(m1, m2), r = add<T>(m3, m4), s = sub<T>(m3, m4);
  store<T>(dst, add<T>(add<T>(m0, p), r));
  store<T>(dst + ds, add<T>(q, mul<T>(s, 2)));
  store<T>(dst + 2 * ds, add<T>(p, mul<T>(r, 4)));
  store<T>(dst + 3 * ds, add<T>(add<T>(q, mul<T>(s, 8)), m5));
}

/** A·e (the transpose of at4), 4 → 6. */
// @ts-ignore: decorator
@inline
function a4_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  a4<T>(dst, ds, load<T>(src), load<T>(src + ss), load<T>(src + 2 * ss), load<T>(src + 3 * ss));
}

// @ts-ignore: decorator
@inline
function a4<T>(dst: usize, ds: usize, e0: T, e1: T, e2: T, e3: T): void {
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
function g3_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const g0 = load<T>(src), g1 = load<T>(src + ss), g2 = load<T>(src + 2 * ss);
  const a = add<T>(mul<T>(g0, <f32>(1.0 / 24)), mul<T>(g2, <f32>(1.0 / 6))), b = mul<T>(g1, <f32>(1.0 / 12));
  store<T>(dst, mul<T>(g0, 0.25));
  store<T>(dst + ds, mul<T>(add<T>(add<T>(g0, g1), g2), <f32>(-1.0 / 6)));
  store<T>(dst + 2 * ds, mul<T>(add<T>(sub<T>(g0, g1), g2), <f32>(-1.0 / 6)));
  store<T>(dst + 3 * ds, add<T>(a, b));
  store<T>(dst + 4 * ds, sub<T>(a, b));
  store<T>(dst + 5 * ds, g2);
}

/** Gᵀ·u (the transpose of g3), 6 → 3. */
// @ts-ignore: decorator
@inline
function gt3_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const u0 = load<T>(src), u1 = load<T>(src + ss), u2 = load<T>(src + 2 * ss);
  const u3 = load<T>(src + 3 * ss), u4 = load<T>(src + 4 * ss), u5 = load<T>(src + 5 * ss);
  const p = add<T>(u1, u2), q = add<T>(u3, u4);
  store<T>(dst, add<T>(add<T>(mul<T>(u0, 0.25), mul<T>(p, <f32>(-1.0 / 6))), mul<T>(q, <f32>(1.0 / 24))));
  store<T>(dst + ds, add<T>(mul<T>(sub<T>(u1, u2), <f32>(-1.0 / 6)), mul<T>(sub<T>(u3, u4), <f32>(1.0 / 12))));
  store<T>(dst + 2 * ds, add<T>(add<T>(mul<T>(p, <f32>(-1.0 / 6)), mul<T>(q, <f32>(1.0 / 6))), u5));
}

/** G·g for the filter side r: r → 6. */
// @ts-ignore: decorator
@inline
function g_at<T>(r: i32, dst: usize, ds: usize, src: usize, ss: usize): void {
  if (r == 3) g3_at<T>(dst, ds, src, ss);
  else g5_at<T>(dst, ds, src, ss);
}

/** Gᵀ·u for the filter side r: 6 → r. */
// @ts-ignore: decorator
@inline
function gt_at<T>(r: i32, dst: usize, ds: usize, src: usize, ss: usize): void {
  if (r == 3) gt3_at<T>(dst, ds, src, ss);
  else gt5_at<T>(dst, ds, src, ss);
}

/** Aᵀ·v for the tile side m: 6 → m. */
// @ts-ignore: decorator
@inline
function at_at<T>(m: i32, dst: usize, ds: usize, src: usize, ss: usize): void {
  if (m == 4) at4_at<T>(dst, ds, src, ss);
  else at2_at<T>(dst, ds, src, ss);
}

/** A·e for the tile side m: m → 6. */
// @ts-ignore: decorator
@inline
function a_at<T>(m: i32, dst: usize, ds: usize, src: usize, ss: usize): void {
  if (m == 4) a4_at<T>(dst, ds, src, ss);
  else a2_at<T>(dst, ds, src, ss);
}

/** Aᵀ·m for m = 2 (F(2×2, 5×5)), 6 → 2. */
// @ts-ignore: decorator
@inline
function at2_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const m0 = load<T>(src), m1 = load<T>(src + ss), m2 = load<T>(src + 2 * ss);
  const m3 = load<T>(src + 3 * ss), m4 = load<T>(src + 4 * ss), m5 = load<T>(src + 5 * ss);
  store<T>(dst, add<T>(add<T>(m0, add<T>(m1, m2)), add<T>(m3, m4)));
  store<T>(dst + ds, add<T>(add<T>(sub<T>(m1, m2), mul<T>(sub<T>(m3, m4), 2)), m5));
}

/** A·e (the transpose of at2), 2 → 6. */
// @ts-ignore: decorator
@inline
function a2_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  a2<T>(dst, ds, load<T>(src), load<T>(src + ss));
}

// @ts-ignore: decorator
@inline
function a2<T>(dst: usize, ds: usize, e0: T, e1: T): void {
  const d = mul<T>(e1, 2);
  store<T>(dst, e0);
  store<T>(dst + ds, add<T>(e0, e1));
  store<T>(dst + 2 * ds, sub<T>(e0, e1));
  store<T>(dst + 3 * ds, add<T>(e0, d));
  store<T>(dst + 4 * ds, sub<T>(e0, d));
  store<T>(dst + 5 * ds, e1);
}

/** G·g for a 5-tap filter, 5 → 6 (rows: p⁰…p⁴ at p = 0, 1, −1, 2, −2, scaled as g3's, then ∞). */
// @ts-ignore: decorator
@inline
function g5_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const g0 = load<T>(src), g1 = load<T>(src + ss), g2 = load<T>(src + 2 * ss), g3 = load<T>(src + 3 * ss), g4 = load<T>(src + 4 * ss);
  const e = add<T>(add<T>(g0, g2), g4), o = add<T>(g1, g3);
  const a = add<T>(add<T>(mul<T>(g0, <f32>(1.0 / 24)), mul<T>(g2, <f32>(1.0 / 6))), mul<T>(g4, <f32>(2.0 / 3)));
  const b = add<T>(mul<T>(g1, <f32>(1.0 / 12)), mul<T>(g3, <f32>(1.0 / 3)));
  store<T>(dst, mul<T>(g0, 0.25));
  store<T>(dst + ds, mul<T>(add<T>(e, o), <f32>(-1.0 / 6)));
  store<T>(dst + 2 * ds, mul<T>(sub<T>(e, o), <f32>(-1.0 / 6)));
  store<T>(dst + 3 * ds, add<T>(a, b));
  store<T>(dst + 4 * ds, sub<T>(a, b));
  store<T>(dst + 5 * ds, g4);
}

/** Gᵀ·u (the transpose of g5), 6 → 5. */
// @ts-ignore: decorator
@inline
function gt5_at<T>(dst: usize, ds: usize, src: usize, ss: usize): void {
  const u0 = load<T>(src), u1 = load<T>(src + ss), u2 = load<T>(src + 2 * ss);
  const u3 = load<T>(src + 3 * ss), u4 = load<T>(src + 4 * ss), u5 = load<T>(src + 5 * ss);
  const p = mul<T>(add<T>(u1, u2), <f32>(-1.0 / 6)), q = add<T>(u3, u4);
  const pm = mul<T>(sub<T>(u1, u2), <f32>(-1.0 / 6)), qm = sub<T>(u3, u4);
  store<T>(dst, add<T>(add<T>(mul<T>(u0, 0.25), p), mul<T>(q, <f32>(1.0 / 24))));
  store<T>(dst + ds, add<T>(pm, mul<T>(qm, <f32>(1.0 / 12))));
  store<T>(dst + 2 * ds, add<T>(p, mul<T>(q, <f32>(1.0 / 6))));
  store<T>(dst + 3 * ds, add<T>(pm, mul<T>(qm, <f32>(1.0 / 3))));
  store<T>(dst + 4 * ds, add<T>(add<T>(p, mul<T>(q, <f32>(2.0 / 3))), u5));
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
