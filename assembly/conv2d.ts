// 2-D convolution of any small kernel (KH×KW), stride and zero padding, NCHW:
// the general layer that conv.ts's 3×3 study kernels specialise. Two
// algorithms, chosen by conv2d_algorithm and forcible by the caller (tests and
// benchmarks reach each one on every shape it claims):
//   CONV_IM2COL:   columns [Cin·KH·KW × N·OH·OW], one matrix multiply by the
//                  weight [Cout × Cin·KH·KW], the product channel-major, then NCHW
//                  with the bias. Any kernel, stride and padding.
//   CONV_WINOGRAD: F(4×4, 3×3) or F(2×2, 5×5) (winograd.ts) for 3×3 or 5×5,
//                  stride 1, output sides multiples of the tile (4 or 2); a
//                  padded layer first copies its input into a zero-bordered
//                  buffer (and crops the input gradient back).
//   CONV_DIRECT:   (direct.ts) stride 1, any kernel: output rows summed straight
//                  from a zero-bordered copy of the input, no column matrix; for
//                  few input channels and filters (a first layer).
// Padding is given as the top and left zeros and the output size: 'same' pads
// the odd zero at the bottom and right, as TensorFlow and PyTorch do.
import { gemm, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } from "./gemm";
import { channel_sum } from "./reduce";
import { winograd_workspace, winograd_product, winograd_product_backward } from "./winograd";
import { channel_to_nchw_images, copy_run, add_run, fill_run } from "./conv";
import { direct_weights, direct_weights_floats, direct_conv, direct_conv_relu_maxpool, direct_weight_grad, direct_pooled_weight_grad, pooled_grad_scratch } from "./direct";
import { barrier, part_from, part_to } from "./threads";
import { pooled_channel_sums } from "./pool";

export const CONV_IM2COL: i32 = 0;
export const CONV_WINOGRAD: i32 = 1;
export const CONV_DIRECT: i32 = 2;

/** Whether `algo` computes a convolution of this shape. */
export function conv2d_supports(algo: i32, KH: i32, KW: i32, stride: i32, OH: i32, OW: i32): bool {
  if (algo == CONV_IM2COL) return true;
  if (algo == CONV_DIRECT) return stride == 1 && OH > 0 && OW > 0;
  if (algo == CONV_WINOGRAD) {
    const m = KH == 3 ? 4 : 2; // the output tile
    return (KH == 3 || KH == 5) && KW == KH && stride == 1 && OH > 0 && OW > 0 && OH % m == 0 && OW % m == 0;
  }
  return false;
}

/**
 * The default, as measured (`npm run bench -- kernels`): Winograd where it
 * applies and the channel products dominate its transforms (Cin ≥ 8 for 3×3;
 * Cin ≥ 4 for 5×5, which saves 100/36 of the products rather than 144/36 but
 * has lighter output transforms); direct for few filters (Cout < 16: each
 * column of an im2col matrix would serve few products) over output rows of
 * whole vectors, at least four (OW ≥ 16, a multiple of 4); else im2col.
 * `pooled` (ReLU and 2×2 max pooling follow, fused where the algorithm pools
 * in registers): direct for one input channel with even output sides, the
 * three fused and, as a first layer, the weight gradient from the pooled
 * gradient. The study's first layer (3×3, 1 → 32, 200 images of 14×14),
 * caches flushed: im2col + gemm and the pool 1000 µs forward, 1100–1600
 * backward; direct and fused 920 and 630 (paired 30-epoch rounds of models
 * 1–3: 0.95, 0.93, 0.96).
 */
export function conv2d_algorithm(Cin: i32, Cout: i32, KH: i32, KW: i32, stride: i32, OH: i32, OW: i32, pooled: bool): i32 {
  if (pooled && Cin == 1 && conv2d_pools_in_registers(CONV_DIRECT, KH, KW, stride, OH, OW)) return CONV_DIRECT;
  if (Cin >= (KH == 5 ? 4 : 8) && conv2d_supports(CONV_WINOGRAD, KH, KW, stride, OH, OW)) return CONV_WINOGRAD;
  if (Cout < 16 && OW >= 16 && OW % 4 == 0 && conv2d_supports(CONV_DIRECT, KH, KW, stride, OH, OW)) return CONV_DIRECT;
  return CONV_IM2COL;
}

/** Winograd reads a (OH+K−1)×(OW+K−1) input: a padded or cropped layer needs a copy. */
// @ts-ignore: decorator
@inline
function needs_copy(H: i32, W: i32, padT: i32, padL: i32, OH: i32, OW: i32, KH: i32, KW: i32): bool {
  return padT != 0 || padL != 0 || OH + KH - 1 != H || OW + KW - 1 != W;
}

/** Floats of workspace `algo` needs (kept from forward to backward). */
export function conv2d_workspace(algo: i32, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32): i32 {
  if (algo == CONV_WINOGRAD) {
    const HP = OH + KH - 1, WP = OW + KW - 1;
    return winograd_workspace(N, Cin, HP, WP, Cout, KH) + (needs_copy(H, W, padT, padL, OH, OW, KH, KW) ? N * Cin * HP * WP : 0);
  }
  if (algo == CONV_DIRECT) {
    // the padded input (kept for backward), the filters prepared, then the padded output gradient, the flipped filters and the
    // weight and bias gradients' partial sums (conv2d_backward), or the pooled gradient's lists (conv2d_relu_maxpool_backward)
    const weights = direct_weights_floats(Cout, Cin, KH, KW);
    return N * Cin * (OH + KH - 1) * (OW + KW - 1) + weights + max(2 * weights + Cout + N * Cout * (H + KH - 1) * (W + KW - 1), pooled_grad_scratch(Cout, Cin, KH, OH, OW));
  }
  return Cin * KH * KW * N * OH * OW;
}

/**
 * y: [N, Cout, OH, OW] out; ws: conv2d_workspace floats (kept for backward
 * unless `keep` is false: no backward follows, as in evaluation); yc: [Cout,
 * N·OH·OW] scratch (im2col); x: [N, Cin, H, W]; w: [Cout, Cin, KH, KW];
 * bias: [Cout], or 0 for none.
 */
export function conv2d_forward(
  algo: i32, y: usize, ws: usize, yc: usize,
  x: usize, w: usize, bias: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  keep: bool, part: i32, parts: i32,
): void {
  // a thread's share: images n0 … n1 − 1 (their padding, columns, products and outputs)
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  if (algo == CONV_WINOGRAD) {
    winograd_forward(y, 0, ws, x, w, bias, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, keep, part, parts);
    return;
  }
  if (algo == CONV_DIRECT) {
    direct_conv(y, ws, direct_prepare(ws, x, w, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, part, parts), bias, n0, n1, Cin, OH + KH - 1, OW + KW - 1, Cout, KH, KW, OH, OW);
    return;
  }
  const K = Cin * KH * KW, P = OH * OW, NP = N * P, off = <usize>(n0 * P) << 2;
  columns(ws, x, N, Cin, H, W, KH, KW, stride, padT, padL, OH, OW, false, n0, n1);
  if (n1 > n0) gemm(yc + off, w, ws + off, Cout, (n1 - n0) * P, K, K, NP, NP, 0);
  for (let c = 0; c < Cout; c++) channel_to_nchw_images(y, yc, c, N, Cout, P, 1, bias ? load<f32>(bias + (<usize>c << 2)) : 0, n0, n1);
}

/** Winograd's forward (pooled: y and idx as winograd_product's), through a padded copy of x where the layer pads or crops. */
function winograd_forward(y: usize, idx: usize, ws: usize, x: usize, w: usize, bias: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32, keep: bool, part: i32, parts: i32): void {
  const HP = OH + KH - 1, WP = OW + KW - 1, n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  let xp = x;
  if (needs_copy(H, W, padT, padL, OH, OW, KH, KW)) {
    xp = ws + (<usize>winograd_workspace(N, Cin, HP, WP, Cout, KH) << 2);
    pad_copy(xp + (<usize>(n0 * Cin * HP * WP) << 2), x + (<usize>(n0 * Cin * H * W) << 2), (n1 - n0) * Cin, H, W, HP, WP, padT, padL);
  }
  winograd_product(y, idx, ws, xp, w, bias, N, Cin, HP, WP, Cout, KH, true, keep, part, parts); // its tiles are the same images
}

/** Winograd's backward (pooled: dy, yp and idx as winograd_product_backward's), cropping dx from the padded copy's gradient where the forward padded. */
function winograd_backward(dx: usize, dw: usize, dy: usize, yp: usize, idx: usize, ws: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32, part: i32, parts: i32): void {
  const HP = OH + KH - 1, WP = OW + KW - 1, n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  if (!needs_copy(H, W, padT, padL, OH, OW, KH, KW)) {
    winograd_product_backward(dx, dw, dy, yp, idx, ws, N, Cin, HP, WP, Cout, KH, true, part, parts);
    return;
  }
  const dxp = dx ? ws + (<usize>winograd_workspace(N, Cin, HP, WP, Cout, KH) << 2) : 0;
  winograd_product_backward(dxp, dw, dy, yp, idx, ws, N, Cin, HP, WP, Cout, KH, true, part, parts); // dxp of images n0 … n1 − 1 by this thread
  if (dx) crop(dx + (<usize>(n0 * Cin * H * W) << 2), dxp + (<usize>(n0 * Cin * HP * WP) << 2), (n1 - n0) * Cin, H, W, HP, WP, padT, padL);
}

/**
 * The direct convolution's first step: its prepared filters (returned: their
 * address in ws) and this thread's images padded into ws, which the backward
 * pass reads as its input (the layer's x is not kept).
 */
function direct_prepare(ws: usize, x: usize, w: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32, part: i32, parts: i32): usize {
  const HP = OH + KH - 1, WP = OW + KW - 1, F = Cout * Cin, wv = ws + (<usize>(N * Cin * HP * WP) << 2);
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  direct_weights(wv, w, Cout, Cin, KH, KW, false, part_from(F, 1, part, parts), part_to(F, 1, part, parts));
  pad_copy(ws + (<usize>(n0 * Cin * HP * WP) << 2), x + (<usize>(n0 * Cin * H * W) << 2), (n1 - n0) * Cin, H, W, HP, WP, padT, padL);
  barrier(parts); // every filter prepared
  return wv;
}

/**
 * yp, idx: [N, Cout, OH/2, OW/2]: the convolution followed by ReLU and 2×2 max
 * pooling, as conv2d_forward then relu_maxpool2x2_forward would give them (the
 * same bits, and the same workspace for conv2d_backward), without writing
 * the convolution's output (pool.ts's backward needs only yp and idx): direct
 * (OH and OW even) pools two output rows in registers, Winograd the windows
 * of each output tile. (conv2d_pools_in_registers says which apply.)
 */
export function conv2d_relu_maxpool_forward(
  algo: i32, yp: usize, idx: usize, ws: usize,
  x: usize, w: usize, bias: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  keep: bool, part: i32, parts: i32,
): void {
  if (algo == CONV_WINOGRAD) {
    winograd_forward(yp, idx, ws, x, w, bias, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, keep, part, parts);
    return;
  }
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  const wv = direct_prepare(ws, x, w, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, part, parts);
  direct_conv_relu_maxpool(yp, idx, ws, wv, bias, n0, n1, Cin, OH + KH - 1, OW + KW - 1, Cout, KH, KW, OH, OW);
}

/** Whether conv2d_relu_maxpool_forward (and _backward) serve `algo` on this shape: direct with even output sides, or Winograd. */
export function conv2d_pools_in_registers(algo: i32, KH: i32, KW: i32, stride: i32, OH: i32, OW: i32): bool {
  if (!conv2d_supports(algo, KH, KW, stride, OH, OW)) return false;
  return algo == CONV_DIRECT ? OH % 2 == 0 && OW % 2 == 0 : algo == CONV_WINOGRAD; // Winograd's tiles (4×4 or 2×2) hold whole windows
}

/**
 * Behind conv2d_relu_maxpool_forward, from the pooled gradient dyp and the
 * forward's yp, idx: [N, Cout, OH/2, OW/2] and workspace ws, where
 * relu_maxpool2x2_backward then conv2d_backward would write and read the full
 * output gradient, three quarters zeros: dw: [Cout, Cin, KH, KW] += ; db: [Cout]
 * += (skipped when 0); dx: [N, Cin, H, W] overwritten (skipped when 0; direct:
 * must be 0, a first layer). Direct sums one input window per window with a
 * gradient; Winograd transforms each tile's gradient from its window's.
 */
export function conv2d_relu_maxpool_backward(
  algo: i32, dx: usize, dw: usize, db: usize,
  dyp: usize, yp: usize, idx: usize, ws: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  part: i32, parts: i32,
): void {
  const k0 = part_from(Cout, 1, part, parts), k1 = part_to(Cout, 1, part, parts);
  if (db) pooled_channel_sums(db, dyp, yp, N, Cout, (OH >> 1) * (OW >> 1), k0, k1);
  if (algo == CONV_WINOGRAD) {
    winograd_backward(dx, dw, dyp, yp, idx, ws, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, part, parts);
    return;
  }
  assert(dx == 0, "conv2d_relu_maxpool_backward: direct, for a first layer only");
  const HP = OH + KH - 1, WP = OW + KW - 1, list = ws + (<usize>(N * Cin * HP * WP + direct_weights_floats(Cout, Cin, KH, KW)) << 2); // past the padded input and the filters
  direct_pooled_weight_grad(dw, list, dyp, yp, idx, ws, N, Cin, HP, WP, Cout, KH, KW, OH, OW, k0, k1);
}

/**
 * dw: [Cout, Cin, KH, KW] += ; db: [Cout] += (skipped when 0); dx: [N, Cin, H, W]
 * overwritten (skipped when 0); dyc: [Cout, N·OH·OW] scratch; dy: [N, Cout, OH, OW];
 * w: weights; ws: from the forward (overwritten).
 */
export function conv2d_backward(
  algo: i32, dx: usize, dw: usize, db: usize, dyc: usize,
  dy: usize, w: usize, ws: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  part: i32, parts: i32,
): void {
  const P = OH * OW, NP = N * P, K = Cin * KH * KW;
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  if (db && algo != CONV_DIRECT) { // the direct weight gradient sums db while it reads dy
    for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
      const g = db + (<usize>c << 2);
      store<f32>(g, load<f32>(g) + channel_sum(dy, c, N, Cout, P));
    }
  }
  if (algo == CONV_WINOGRAD) {
    winograd_backward(dx, dw, dy, 0, 0, ws, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, part, parts);
    return;
  }
  if (algo == CONV_DIRECT) {
    const HP = OH + KH - 1, WP = OW + KW - 1, HQ = H + KH - 1, WQ = W + KW - 1, F = Cout * Cin;
    const weights = <usize>direct_weights_floats(Cout, Cin, KH, KW) << 2;
    const dyq = ws + (<usize>(N * Cin * HP * WP) << 2) + weights, wflip = dyq + (<usize>(N * Cout * HQ * WQ) << 2), sums = wflip + weights;
    direct_weight_grad(dw, db, sums, dy, ws, N, Cin, HP, WP, Cout, KH, KW, OH, OW, part_from(Cout, 1, part, parts), part_to(Cout, 1, part, parts));
    if (dx == 0) return;
    // dx: the output gradient, bordered by K − 1 − pad, convolved with the flipped filters
    direct_weights(wflip, w, Cout, Cin, KH, KW, true, part_from(F, 1, part, parts), part_to(F, 1, part, parts));
    pad_copy(dyq + (<usize>(n0 * Cout * HQ * WQ) << 2), dy + (<usize>(n0 * Cout * P) << 2), (n1 - n0) * Cout, OH, OW, HQ, WQ, KH - 1 - padT, KW - 1 - padL);
    barrier(parts); // every flipped filter
    direct_conv(dx, dyq, wflip, 0, n0, n1, Cout, HQ, WQ, Cin, KH, KW, H, W);
    return;
  }
  for (let n = n0; n < n1; n++) {
    for (let c = 0; c < Cout; c++) copy_run(dyc + (<usize>((c * N + n) * P) << 2), dy + (<usize>((n * Cout + c) * P) << 2), P);
  }
  barrier(parts); // the weight gradient sums over every image
  const j0 = part_from(K, 16, part, parts), j1 = part_to(K, 16, part, parts);
  if (j1 > j0) gemm(dw + (<usize>j0 << 2), dyc, ws + (<usize>(j0 * NP) << 2), Cout, j1 - j0, NP, NP, NP, K, GEMM_TRANS_B | GEMM_ACCUMULATE);
  if (dx) {
    barrier(parts); // every thread has read the columns: they may now hold Wᵀ·dYc
    const off = <usize>(n0 * P) << 2;
    if (n1 > n0) gemm(ws + off, w, dyc + off, K, (n1 - n0) * P, Cout, K, NP, NP, GEMM_TRANS_A);
    memory.fill(dx + (<usize>(n0 * Cin * H * W) << 2), 0, <usize>((n1 - n0) * Cin * H * W) << 2);
    columns(ws, dx, N, Cin, H, W, KH, KW, stride, padT, padL, OH, OW, true, n0, n1);
  }
}

/** Output columns ow of one kernel column kw that read inside the row (stride 1): [lo, hi), 0 ≤ lo ≤ hi ≤ OW. */
// @ts-ignore: decorator
@inline
function inside_lo(kw: i32, padL: i32, OW: i32): i32 {
  return min(OW, max(0, padL - kw));
}

// @ts-ignore: decorator
@inline
function inside_hi(kw: i32, padL: i32, W: i32, OW: i32): i32 {
  return max(inside_lo(kw, padL, OW), min(OW, W + padL - kw));
}

/** col: [C·KH·KW, N·OH·OW] out, zeros where the window leaves x: [N, C, H, W]. */
export function im2col(col: usize, x: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32): void {
  columns(col, x, N, C, H, W, KH, KW, stride, padT, padL, OH, OW, false, 0, N);
}

/** dx: [N, C, H, W] overwritten with the sum of the columns' contributions (im2col's transpose). */
export function col2im(dx: usize, col: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32): void {
  memory.fill(dx, 0, <usize>(N * C * H * W) << 2);
  columns(col, dx, N, C, H, W, KH, KW, stride, padT, padL, OH, OW, true, 0, N);
}

/**
 * One walk over the columns and the image, both directions of im2col: gather
 * (col ← x, zeros outside) or, with `scatter`, its transpose (x += col); the
 * columns of images n0 … n1 − 1 (a thread's share).
 */
// @ts-ignore: decorator
@inline
function columns(col: usize, x: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, scatter: bool, n0: i32, n1: i32): void {
  const rowBytes = <usize>OW << 2, NP = N * OH * OW;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const lo = inside_lo(kw, padL, OW), hi = inside_hi(kw, padL, W, OW);
        let d = col + (<usize>(((c * KH + kh) * KW + kw) * NP + n0 * OH * OW) << 2);
        for (let n = n0; n < n1; n++) {
          const plane = x + (<usize>((n * C + c) * H * W) << 2);
          for (let oh = 0; oh < OH; oh++, d += rowBytes) {
            const ih = oh * stride + kh - padT;
            if (ih < 0 || ih >= H) {
              if (!scatter) fill_run(d, 0, OW);
              continue;
            }
            const row = plane + (<usize>(ih * W) << 2);
            if (stride == 1) {
              const img = row + (<usize>(lo + kw - padL) << 2), part = d + (<usize>lo << 2);
              if (scatter) {
                add_run(img, part, hi - lo);
              } else {
                fill_run(d, 0, lo);
                copy_run(part, img, hi - lo);
                fill_run(d + (<usize>hi << 2), 0, OW - hi);
              }
            } else {
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * stride + kw - padL, q = d + (<usize>ow << 2);
                const inside = iw >= 0 && iw < W, p = row + (<usize>iw << 2);
                if (scatter) {
                  if (inside) store<f32>(p, load<f32>(p) + load<f32>(q));
                } else {
                  store<f32>(q, inside ? load<f32>(p) : 0);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** xp: [R, HP, WP] = x: [R, H, W] shifted by (padT, padL) inside zeros (cut where it overhangs). */
function pad_copy(xp: usize, x: usize, R: i32, H: i32, W: i32, HP: i32, WP: i32, padT: i32, padL: i32): void {
  memory.fill(xp, 0, <usize>(R * HP * WP) << 2);
  const w0 = max(0, -padL), w1 = min(W, WP - padL);
  for (let r = 0; r < R; r++) {
    for (let h = max(0, -padT); h < min(H, HP - padT); h++) {
      if (w1 > w0) copy_run(xp + (<usize>((r * HP + h + padT) * WP + w0 + padL) << 2), x + (<usize>((r * H + h) * W + w0) << 2), w1 - w0);
    }
  }
}

/** dx: [R, H, W] = the (padT, padL)-shifted window of dxp: [R, HP, WP] (zeros where it overhangs). */
function crop(dx: usize, dxp: usize, R: i32, H: i32, W: i32, HP: i32, WP: i32, padT: i32, padL: i32): void {
  memory.fill(dx, 0, <usize>(R * H * W) << 2);
  const w0 = max(0, -padL), w1 = min(W, WP - padL);
  for (let r = 0; r < R; r++) {
    for (let h = max(0, -padT); h < min(H, HP - padT); h++) {
      if (w1 > w0) copy_run(dx + (<usize>((r * H + h) * W + w0) << 2), dxp + (<usize>((r * HP + h + padT) * WP + w0 + padL) << 2), w1 - w0);
    }
  }
}
