// 2×2 max pooling, stride 2, fused with the ReLU before it: relu then pool equals
// pool then relu, and the window's argmax is the same wherever the output is
// positive (elsewhere the gradient is zero anyway). Ties go to the first maximum
// in scan order (top-left, top-right, bottom-left, bottom-right), as in PyTorch.
//
// When the output width is even, windows come in "units" of two side by side:
// one 16-byte load covers a unit's top (or bottom) row. The SIMD path takes two
// units (four windows) per step, crossing row boundaries freely. Odd widths go
// row by row, four windows to a vector and the rest one at a time.
//
// Below them, the general layers: max and average pooling over k×k windows with
// stride s, and global average pooling.
import { sum8, lane_add, lanes_sum } from "./reduce";
import { where_positive, where_positive4 } from "./activation";

/**
 * y: [R, H/2, W/2] out; idx: [R, H/2, W/2] i32 out (0..3 within the window);
 * x: [R, H, W] with R = N·C; H and W even.
 */
export function relu_maxpool2x2_forward(y: usize, idx: usize, x: usize, R: i32, H: i32, W: i32): void {
  windows2x2(false, x, 0, y, idx, R, H, W);
}

/** dx: [R, H, W] overwritten; dy, y, idx: [R, H/2, W/2] from the forward pass. */
export function relu_maxpool2x2_backward(dx: usize, dy: usize, y: usize, idx: usize, R: i32, H: i32, W: i32): void {
  windows2x2(true, dx, dy, y, idx, R, H, W);
}

/**
 * The walk both passes share (back a constant once inlined): over the windows of
 * the planes at img (x forward, dx backward), four at a time in the SIMD build,
 * their outputs y, idx (and dy backward) one float per window in order.
 */
// @ts-ignore: decorator
@inline
function windows2x2(back: bool, img: usize, dy: usize, y: usize, idx: usize, R: i32, H: i32, W: i32): void {
  const OW = W >> 1, windows = R * (H >> 1) * OW;
  if (!ASC_FEATURE_SIMD) {
    some_windows(back, img, dy, y, idx, 0, windows, OW, W);
    return;
  }
  const rowBytes = <usize>W << 2, pairBytes = rowBytes << 1;
  if ((OW & 1) != 0) {
    // odd widths: each row pair on its own, four windows to a vector, the rest one by one
    const rows = R * (H >> 1);
    for (let r = 0; r < rows; r++) {
      const s = img + <usize>r * pairBytes, w0 = r * OW;
      let o = 0;
      for (; o + 4 <= OW; o += 4) {
        const p = s + (<usize>o << 3);
        four_windows(back, p, p + 16, rowBytes, <usize>(w0 + o) << 2, dy, y, idx);
      }
      some_windows(back, img, dy, y, idx, w0 + o, w0 + OW, OW, W);
    }
    return;
  }
  const half = OW >> 1;
  const units = windows >> 1;
  let src = img, q = 0;
  let u = 0;
  for (; u + 2 <= units; u += 2) {
    const s0 = src + (<usize>q << 4);
    q++; const wrap0 = q == half; q = select(0, q, wrap0); src += select(pairBytes, 0, wrap0);
    const s1 = src + (<usize>q << 4);
    q++; const wrap1 = q == half; q = select(0, q, wrap1); src += select(pairBytes, 0, wrap1);
    four_windows(back, s0, s1, rowBytes, <usize>u << 3, dy, y, idx);
  }
  some_windows(back, img, dy, y, idx, u << 1, windows, OW, W);
}

/** Windows 0, 1 at p0 (top row) and p0 + rowBytes (bottom), 2, 3 at p1; their outputs at byte offset o. */
// @ts-ignore: decorator
@inline
function four_windows(back: bool, p0: usize, p1: usize, rowBytes: usize, o: usize, dy: usize, y: usize, idx: usize): void {
  if (back) backward4(p0, p1, rowBytes, dy + o, y + o, idx + o);
  else forward4(y + o, idx + o, v128.load(p0), v128.load(p1), v128.load(p0 + rowBytes), v128.load(p1 + rowBytes));
}

/** Windows from … to − 1 one by one. */
// @ts-ignore: decorator
@inline
function some_windows(back: bool, img: usize, dy: usize, y: usize, idx: usize, from: i32, to: i32, OW: i32, W: i32): void {
  if (back) backward_windows(img, dy, y, idx, from, to, OW, W);
  else forward_windows(y, idx, img, from, to, OW, W);
}

/**
 * Four windows whose top rows are a0 (windows 0, 1) and a1 (2, 3), bottom rows b0
 * and b1; with lanes = 2 (a constant once inlined) the first two only (a1, b1 unused).
 */
// @ts-ignore: decorator
@inline
export function forward4(y: usize, idx: usize, a0: v128, a1: v128, b0: v128, b1: v128, lanes: i32 = 4): void {
  windows4(y, idx, v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v128.shuffle<f32>(a0, a1, 1, 3, 5, 7), v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), v128.shuffle<f32>(b0, b1, 1, 3, 5, 7), lanes);
}

/** Four windows, lane by lane (top left, top right, bottom left, bottom right): their ReLU'd max to y, argmax to idx (the first `lanes`). */
// @ts-ignore: decorator
@inline
export function windows4(y: usize, idx: usize, tl: v128, tr: v128, bl: v128, br: v128, lanes: i32 = 4): void {
  // pmax(m, v) is v where v > m, else m: one instruction, where max (NaN and ±0 rules) takes eight on x64 and
  // bitselect three; the argmax is the last position that won, so the largest of (won ? position : 0)
  let g = f32x4.gt(tr, tl), m = f32x4.pmax(tl, tr), k = v128.and(g, i32x4.splat(1));
  g = f32x4.gt(bl, m); m = f32x4.pmax(m, bl); k = i32x4.max_s(k, v128.and(g, i32x4.splat(2)));
  g = f32x4.gt(br, m); m = f32x4.pmax(m, br); k = i32x4.max_s(k, v128.and(g, i32x4.splat(3)));
  m = where_positive4(m, m); // ReLU as forward1's: +0 unless m > 0
  if (lanes == 4) {
    v128.store(y, m);
    v128.store(idx, k);
  } else {
    v128.store64_lane(y, m, 0);
    v128.store64_lane(idx, k, 0);
  }
}

/** One window (top left, top right, bottom left, bottom right): its ReLU'd max to y, its argmax 0…3 to idx. */
// @ts-ignore: decorator
@inline
export function forward1(y: usize, idx: usize, tl: f32, tr: f32, bl: f32, br: f32): void {
  // Integer selects: V8 turns an f32 select into a branch, mispredicted on data.
  let m = tl, mb = reinterpret<i32>(tl), k = 0;
  let g = tr > m; k = select(1, k, g); mb = select(reinterpret<i32>(tr), mb, g); m = reinterpret<f32>(mb);
  g = bl > m; k = select(2, k, g); mb = select(reinterpret<i32>(bl), mb, g); m = reinterpret<f32>(mb);
  g = br > m; k = select(3, k, g); mb = select(reinterpret<i32>(br), mb, g); m = reinterpret<f32>(mb);
  store<i32>(y, select(mb, 0, m > 0));
  store<i32>(idx, k);
}

// Windows from..to one by one, walking rows rather than dividing each window's number.
function forward_windows(y: usize, idx: usize, x: usize, from: i32, to: i32, OW: i32, W: i32): void {
  if (from >= to) return;
  const rowBytes = <usize>W << 2;
  let r = from / OW, o = from - r * OW;
  let s0 = x + (<usize>(2 * r * W + 2 * o) << 2);
  for (let w = from; w < to; w++) {
    const s1 = s0 + rowBytes;
    forward1(y + (<usize>w << 2), idx + (<usize>w << 2), load<f32>(s0), load<f32>(s0, 4), load<f32>(s1), load<f32>(s1, 4));
    o++; s0 += 8;
    const wrap = o == OW; o = select(0, o, wrap); s0 += select(rowBytes, 0, wrap);
  }
}

/** Four windows' gradients: windows 0, 1 to d0 (top row) and d0 + rowBytes (bottom), 2, 3 to d1. */
// @ts-ignore: decorator
@inline
function backward4(d0: usize, d1: usize, rowBytes: usize, dy: usize, y: usize, idx: usize): void {
  const g = where_positive4(v128.load(dy), v128.load(y)), k = v128.load(idx);
  const tl = grad_at4(g, k, 0), tr = grad_at4(g, k, 1), bl = grad_at4(g, k, 2), br = grad_at4(g, k, 3);
  v128.store(d0, v128.shuffle<f32>(tl, tr, 0, 4, 1, 5));
  v128.store(d1, v128.shuffle<f32>(tl, tr, 2, 6, 3, 7));
  v128.store(d0 + rowBytes, v128.shuffle<f32>(bl, br, 0, 4, 1, 5));
  v128.store(d1 + rowBytes, v128.shuffle<f32>(bl, br, 2, 6, 3, 7));
}

function backward_windows(dx: usize, dy: usize, y: usize, idx: usize, from: i32, to: i32, OW: i32, W: i32): void {
  if (from >= to) return;
  const rowBytes = <usize>W << 2;
  let r = from / OW, o = from - r * OW;
  let d0 = dx + (<usize>(2 * r * W + 2 * o) << 2);
  for (let w = from; w < to; w++) {
    const so = <usize>w << 2;
    spread1(d0, d0 + rowBytes, where_positive(dy, y, so), load<i32>(idx + so));
    o++; d0 += 8;
    const wrap = o == OW; o = select(0, o, wrap); d0 += select(rowBytes, 0, wrap);
  }
}

/**
 * db[c] += Σ of the pooled gradient that reaches channel c's outputs (dy where
 * y > 0; y, dy: [N, C, P] pooled planes), for c0 ≤ c < c1: the bias gradient
 * behind ReLU and 2×2 max pooling. Four partial sums (window w of each plane
 * into sum w mod 4, image by image: a vector's lanes in the SIMD build), added
 * up as (s0 + s1) + (s2 + s3).
 */
export function pooled_channel_sums(db: usize, dy: usize, y: usize, N: i32, C: i32, P: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    let total: f32;
    if (ASC_FEATURE_SIMD) {
      let a = f32x4.splat(0);
      for (let n = 0; n < N; n++) {
        const o = <usize>((n * C + c) * P) << 2;
        let w = 0;
        for (; w + 4 <= P; w += 4) {
          const q = o + (<usize>w << 2);
          a = f32x4.add(a, where_positive4(v128.load(dy + q), v128.load(y + q)));
        }
        for (; w < P; w++) a = lane_add(a, w & 3, where_positive(dy, y, o + (<usize>w << 2)));
      }
      total = lanes_sum(a);
    } else {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      for (let n = 0; n < N; n++) {
        const o = <usize>((n * C + c) * P) << 2;
        for (let w = 0; w < P; w++) {
          const g = where_positive(dy, y, o + (<usize>w << 2)), j = w & 3;
          if (j == 0) s0 += g;
          else if (j == 1) s1 += g;
          else if (j == 2) s2 += g;
          else s3 += g;
        }
      }
      total = (s0 + s1) + (s2 + s3);
    }
    store<f32>(db + (<usize>c << 2), load<f32>(db + (<usize>c << 2)) + total);
  }
}

/** Four windows' gradients g at window position j (0…3) of each, lane by lane: g where the argmax k is j, zeros elsewhere (spread1's, four at once). */
// @ts-ignore: decorator
@inline
export function grad_at4(g: v128, k: v128, j: i32): v128 {
  return v128.and(g, i32x4.eq(k, i32x4.splat(j)));
}

/** A window's gradient g spread over its four outputs: g at its argmax k (0…3), zeros elsewhere; top row at top, bottom row at bottom. */
// @ts-ignore: decorator
@inline
export function spread1(top: usize, bottom: usize, g: f32, k: i32): void {
  const b = reinterpret<i32>(g);
  store<i32>(top, select(b, 0, k == 0));
  store<i32>(top, select(b, 0, k == 1), 4);
  store<i32>(bottom, select(b, 0, k == 2));
  store<i32>(bottom, select(b, 0, k == 3), 4);
}

// ---- general pooling: k×k windows with stride s, no padding ----
// Plain loops: a max is exact and an average sums its window in one fixed
// order, so both builds agree bit for bit.

/**
 * y: [R, OH, OW] out, the max of each KH×KW window (stride S) of x: [R, H, W];
 * idx: [R, OH, OW] i32 out, the winning input offset within its plane (first max
 * in scan order, as PyTorch). R = N·C; OH = (H − KH)/S + 1.
 */
export function maxpool2d_forward(y: usize, idx: usize, x: usize, R: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, OH: i32, OW: i32): void {
  let o: usize = 0;
  for (let r = 0; r < R; r++) {
    const plane = x + (<usize>(r * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o += 4) {
        let best = oh * S * W + ow * S;
        let m = load<f32>(plane + (<usize>best << 2));
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const at = (oh * S + kh) * W + ow * S + kw;
            const v = load<f32>(plane + (<usize>at << 2));
            if (v > m || v != v) { // NaN propagates, as in PyTorch
              m = v;
              best = at;
              if (v != v) break;
            }
          }
        }
        store<f32>(y + o, m);
        store<i32>(idx + o, best);
      }
    }
  }
}

/** dx: [R, H, W] overwritten: each dy routed to its window's max (overlapping windows add). */
export function maxpool2d_backward(dx: usize, dy: usize, idx: usize, R: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  memory.fill(dx, 0, <usize>(R * H * W) << 2);
  let o: usize = 0;
  for (let r = 0; r < R; r++) {
    const plane = dx + (<usize>(r * H * W) << 2);
    for (let q = 0; q < OH * OW; q++, o += 4) {
      const p = plane + (<usize>load<i32>(idx + o) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dy + o));
    }
  }
}

/** y: [R, OH, OW] out, the mean of each KH×KW window (stride S) of x: [R, H, W]. */
export function avgpool2d_forward(y: usize, x: usize, R: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, OH: i32, OW: i32): void {
  const inv: f32 = 1 / <f32>(KH * KW);
  let o: usize = 0;
  for (let r = 0; r < R; r++) {
    const plane = x + (<usize>(r * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o += 4) {
        let s: f32 = 0;
        for (let kh = 0; kh < KH; kh++) {
          const row = plane + (<usize>((oh * S + kh) * W + ow * S) << 2);
          for (let kw = 0; kw < KW; kw++) s += load<f32>(row + (<usize>kw << 2));
        }
        store<f32>(y + o, s * inv);
      }
    }
  }
}

/** dx: [R, H, W] overwritten: each dy spread evenly over its window (overlapping windows add). */
export function avgpool2d_backward(dx: usize, dy: usize, R: i32, H: i32, W: i32, KH: i32, KW: i32, S: i32, OH: i32, OW: i32): void {
  memory.fill(dx, 0, <usize>(R * H * W) << 2);
  const inv: f32 = 1 / <f32>(KH * KW);
  let o: usize = 0;
  for (let r = 0; r < R; r++) {
    const plane = dx + (<usize>(r * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o += 4) {
        const g = load<f32>(dy + o) * inv;
        for (let kh = 0; kh < KH; kh++) {
          const row = plane + (<usize>((oh * S + kh) * W + ow * S) << 2);
          for (let kw = 0; kw < KW; kw++) {
            const p = row + (<usize>kw << 2);
            store<f32>(p, load<f32>(p) + g);
          }
        }
      }
    }
  }
}

/** y: [R] out, the mean of each plane of x: [R, P] (summed with sum8, the same order in both builds). */
export function global_avgpool_forward(y: usize, x: usize, R: i32, P: i32): void {
  const inv: f32 = 1 / <f32>P;
  for (let r = 0; r < R; r++) store<f32>(y + (<usize>r << 2), sum8(x + (<usize>(r * P) << 2), P) * inv);
}

/** dx: [R, P] overwritten with dy[r] / P everywhere in plane r. */
export function global_avgpool_backward(dx: usize, dy: usize, R: i32, P: i32): void {
  const inv: f32 = 1 / <f32>P;
  for (let r = 0; r < R; r++) {
    const g = load<f32>(dy + (<usize>r << 2)) * inv;
    const d = dx + (<usize>(r * P) << 2);
    for (let p = 0; p < P; p++) store<f32>(d + (<usize>p << 2), g);
  }
}
