// Direct convolution, stride 1, of an already padded input: every output row
// is summed straight from the input rows under it, four output columns to a
// vector, with no column matrix. It pays where the matrix multiply has little
// to multiply: few input channels (a first layer) and few filters, where
// im2col writes and reads K = Cin·KH·KW floats per output for K multiply-adds.
// The input gradient is the same kernel on the padded output gradient with the
// filters flipped and their channels swapped (direct_weights with flip).
//
// Bit-identical builds: each output is 0 + Σ x·w over (c, kh, kw) in that order,
// one lane per output column in the SIMD build, one float at a time in the
// scalar build; the weight gradient keeps four partial sums per weight (output
// column ≡ lane mod 4), added up as (l0 + l1) + (l2 + l3) in both builds.

import { sum8, channel_sum, lane_add } from "./reduce";
import { forward1, forward4 } from "./pool";
import { where_positive, where_positive4 } from "./activation";

/** Bytes per prepared weight: a splatted vector (SIMD) or a float. */
const WEIGHT_BYTES: usize = ASC_FEATURE_SIMD ? 16 : 4;

/** Floats of one prepared weight buffer (direct_weights) for Cout·Cin filters of KH×KW. */
export function direct_weights_floats(Cout: i32, Cin: i32, KH: i32, KW: i32): i32 {
  return Cout * Cin * KH * KW * 4;
}

/**
 * wv: the filters f0 … f1 − 1 of the convolution to run, each weight splatted to
 * a vector (SIMD) or copied (scalar). w: [Cout, Cin, KH, KW]. Without flip the
 * filters are w's; with flip they are those of the input gradient: filter
 * c·Cout + k is w[k, c] turned by 180°.
 */
export function direct_weights(wv: usize, w: usize, Cout: i32, Cin: i32, KH: i32, KW: i32, flip: bool, f0: i32, f1: i32): void {
  const KK = KH * KW;
  for (let f = f0; f < f1; f++) {
    const src = flip ? w + (<usize>(((f % Cout) * Cin + f / Cout) * KK) << 2) : w + (<usize>(f * KK) << 2);
    const dst = wv + <usize>(f * KK) * WEIGHT_BYTES;
    for (let t = 0; t < KK; t++) {
      const v = load<f32>(src + (<usize>(flip ? KK - 1 - t : t) << 2));
      if (ASC_FEATURE_SIMD) v128.store(dst + (<usize>t << 4), f32x4.splat(v));
      else store<f32>(dst + (<usize>t << 2), v);
    }
  }
}

/**
 * y: [N, Cout, OH, OW] for images n0 … n1 − 1: the valid correlation of
 * x: [N, Cin, HP, WP] (HP ≥ OH + KH − 1, WP ≥ OW + KW − 1) with the prepared
 * weights wv, plus bias: [Cout] unless bias is 0.
 */
export function direct_conv(y: usize, x: usize, wv: usize, bias: usize, n0: i32, n1: i32, Cin: i32, HP: i32, WP: i32, Cout: i32, KH: i32, KW: i32, OH: i32, OW: i32): void {
  const KK = KH * KW, rs = <usize>WP << 2, cs = <usize>(HP * WP) << 2, fs = <usize>(Cin * KK) * WEIGHT_BYTES, ys = <usize>(OH * OW) << 2;
  for (let n = n0; n < n1; n++) {
    const xn = x + <usize>(n * Cin) * cs;
    // two filters at a time, each input vector loaded serving both; an odd last filter is
    // paired with itself (its twin sums the same and stores the same values in the same place)
    for (let k = 0; k < Cout; k += 2) {
      const two = k + 1 < Cout, f2 = two ? fs : 0, y2 = two ? ys : 0;
      const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>k << 2)) : 0, b1: f32 = bias != 0 && two ? load<f32>(bias + (<usize>k << 2), 4) : b0;
      const wk = wv + <usize>k * fs, yk = y + (<usize>((n * Cout + k) * OH * OW) << 2);
      for (let oh = 0; oh < OH; oh++) {
        const yr = yk + (<usize>(oh * OW) << 2), xr = xn + <usize>oh * rs;
        let ow = 0;
        if (ASC_FEATURE_SIMD) {
          for (; ow + 16 <= OW; ow += 16) pair(yr + (<usize>ow << 2), 0, y2, xr + (<usize>ow << 2), wk, f2, b0, b1, 4, 16, 32, 48, false, Cin, KH, KW, rs, cs);
          const o = yr + (<usize>ow << 2), p = xr + (<usize>ow << 2), nv = (OW - ow) >> 2;
          switch (nv) {
            case 3: pair(o, 0, y2, p, wk, f2, b0, b1, 3, 16, 32, 48, false, Cin, KH, KW, rs, cs); break;
            case 2: pair(o, 0, y2, p, wk, f2, b0, b1, 2, 16, 32, 48, false, Cin, KH, KW, rs, cs); break;
            case 1: pair(o, 0, y2, p, wk, f2, b0, b1, 1, 16, 32, 48, false, Cin, KH, KW, rs, cs); break;
          }
          ow += nv << 2;
        }
        for (; ow < OW; ow++) {
          store<f32>(yr + (<usize>ow << 2), output(xr + (<usize>ow << 2), wk, Cin, KH, KW, rs, cs) + b0);
          if (two) store<f32>(yr + ys + (<usize>ow << 2), output(xr + (<usize>ow << 2), wk + fs, Cin, KH, KW, rs, cs) + b1);
        }
      }
    }
  }
}

/**
 * yp, idx: [N, Cout, OH/2, OW/2] for images n0 … n1 − 1: ReLU and 2×2 max
 * pooling (pool.ts's forward, its values and argmax) of direct_conv's output,
 * which is never written: each pair of output rows is summed in registers and
 * pooled there. OH and OW even.
 */
export function direct_conv_relu_maxpool(yp: usize, idx: usize, x: usize, wv: usize, bias: usize, n0: i32, n1: i32, Cin: i32, HP: i32, WP: i32, Cout: i32, KH: i32, KW: i32, OH: i32, OW: i32): void {
  const KK = KH * KW, rs = <usize>WP << 2, cs = <usize>(HP * WP) << 2, fs = <usize>(Cin * KK) * WEIGHT_BYTES, PW = OW >> 1, ps = <usize>((OH >> 1) * PW) << 2;
  for (let n = n0; n < n1; n++) {
    const xn = x + <usize>(n * Cin) * cs;
    for (let k = 0; k < Cout; k += 2) { // in pairs, as direct_conv
      const two = k + 1 < Cout, f2 = two ? fs : 0, p2 = two ? ps : 0;
      const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>k << 2)) : 0, b1: f32 = bias != 0 && two ? load<f32>(bias + (<usize>k << 2), 4) : b0;
      const wk = wv + <usize>k * fs, pk = <usize>(n * Cout + k) * ps;
      for (let oh = 0; oh < OH; oh += 2) {
        const o = pk + (<usize>((oh >> 1) * PW) << 2), y = yp + o, ix = idx + o, xr = xn + <usize>oh * rs;
        let ow = 0;
        if (ASC_FEATURE_SIMD) {
          // two rows of two vectors (the top row's, then the bottom row's), then of one
          for (; ow + 8 <= OW; ow += 8) pair(y + (<usize>ow << 1), ix + (<usize>ow << 1), p2, xr + (<usize>ow << 2), wk, f2, b0, b1, 4, 16, rs, rs + 16, true, Cin, KH, KW, rs, cs);
          if (ow + 4 <= OW) {
            pair(y + (<usize>ow << 1), ix + (<usize>ow << 1), p2, xr + (<usize>ow << 2), wk, f2, b0, b1, 2, rs, 0, 0, true, Cin, KH, KW, rs, cs);
            ow += 4;
          }
        }
        for (; ow < OW; ow += 2) {
          const p = xr + (<usize>ow << 2), q = <usize>ow << 1;
          window(y + q, ix + q, p, wk, b0, Cin, KH, KW, rs, cs);
          if (two) window(y + p2 + q, ix + p2 + q, p, wk + fs, b1, Cin, KH, KW, rs, cs);
        }
      }
    }
  }
}

/** One pooling window of the filter at wk, its four outputs' inputs at x, x + 4, x + rs, x + rs + 4: forward1 of the outputs plus bias b. */
// @ts-ignore: decorator
@inline
function window(y: usize, idx: usize, x: usize, wk: usize, b: f32, Cin: i32, KH: i32, KW: i32, rs: usize, cs: usize): void {
  forward1(y, idx, output(x, wk, Cin, KH, KW, rs, cs) + b, output(x + 4, wk, Cin, KH, KW, rs, cs) + b,
    output(x + rs, wk, Cin, KH, KW, rs, cs) + b, output(x + rs + 4, wk, Cin, KH, KW, rs, cs) + b);
}

/** One output before its bias: 0 + Σ x·w over (c, kh, kw), for the window at x and the prepared filter at wk. */
// @ts-ignore: decorator
@inline
function output(x: usize, wk: usize, Cin: i32, KH: i32, KW: i32, rs: usize, cs: usize): f32 {
  let s: f32 = 0, wp = wk, xc = x;
  for (let c = 0; c < Cin; c++, xc += cs) {
    for (let kh = 0; kh < KH; kh++) {
      const q = xc + <usize>kh * rs;
      for (let kw = 0; kw < KW; kw++, wp += WEIGHT_BYTES) s += load<f32>(q + (<usize>kw << 2)) * load<f32>(wp);
    }
  }
  return s;
}

/**
 * Up to four vectors of outputs for two filters (wk and wk + fs), their inputs
 * at x + 0, o1, o2, o3: n (1…4) vectors of one output row (offsets 0, 16, 32,
 * 48) stored at y and y + ys; or, `pooled`, the top and bottom rows of one or
 * two vectors (n = 2: 0, rs; n = 4: 0, 16, rs, rs + 16) pooled into 2 or 4
 * windows per filter at y, idx (the second filter's ys bytes on). n, pooled
 * and the offsets: constants once inlined. Each output is 0 + Σ x·w over
 * (c, kh, kw), then its bias.
 */
// @ts-ignore: decorator
@inline
function pair(y: usize, idx: usize, ys: usize, x: usize, wk: usize, fs: usize, b0: f32, b1: f32, n: i32, o1: usize, o2: usize, o3: usize, pooled: bool, Cin: i32, KH: i32, KW: i32, rs: usize, cs: usize): void {
  const z = f32x4.splat(0);
  let a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
  let wp = wk, xc = x;
  for (let c = 0; c < Cin; c++, xc += cs) {
    for (let kh = 0; kh < KH; kh++) {
      let q = xc + <usize>kh * rs;
      for (let kw = 0; kw < KW; kw++, wp += 16, q += 4) {
        const u = v128.load(wp), v = v128.load(wp + fs);
        let t = v128.load(q);
        a0 = f32x4.add(a0, f32x4.mul(t, u)); c0 = f32x4.add(c0, f32x4.mul(t, v));
        if (n > 1) { t = v128.load(q + o1); a1 = f32x4.add(a1, f32x4.mul(t, u)); c1 = f32x4.add(c1, f32x4.mul(t, v)); }
        if (n > 2) { t = v128.load(q + o2); a2 = f32x4.add(a2, f32x4.mul(t, u)); c2 = f32x4.add(c2, f32x4.mul(t, v)); }
        if (n > 3) { t = v128.load(q + o3); a3 = f32x4.add(a3, f32x4.mul(t, u)); c3 = f32x4.add(c3, f32x4.mul(t, v)); }
      }
    }
  }
  const bv = f32x4.splat(b0), cv = f32x4.splat(b1);
  a0 = f32x4.add(a0, bv); a1 = f32x4.add(a1, bv); a2 = f32x4.add(a2, bv); a3 = f32x4.add(a3, bv);
  c0 = f32x4.add(c0, cv); c1 = f32x4.add(c1, cv); c2 = f32x4.add(c2, cv); c3 = f32x4.add(c3, cv);
  if (pooled && n == 4) {
    forward4(y, idx, a0, a1, a2, a3);
    forward4(y + ys, idx + ys, c0, c1, c2, c3);
  } else if (pooled) {
    forward4(y, idx, a0, z, a1, z, 2);
    forward4(y + ys, idx + ys, c0, z, c1, z, 2);
  } else {
    const y1 = y + ys;
    v128.store(y, a0); v128.store(y1, c0);
    if (n > 1) { v128.store(y, a1, 16); v128.store(y1, c1, 16); }
    if (n > 2) { v128.store(y, a2, 32); v128.store(y1, c2, 32); }
    if (n > 3) { v128.store(y, a3, 48); v128.store(y1, c3, 48); }
  }
}

/**
 * dw[k] += Σ over images and output positions of dy[n, k]·(the input under it),
 * and db[k] += Σ dy[n, k] (skipped when db is 0), for the filters k0 … k1 − 1:
 * dw: [Cout, Cin, KH, KW]; dy: [N, Cout, OH, OW]; x: the padded input as
 * direct_conv read it; sums: (4·Cin·KH·KW + 1)·Cout floats of scratch (four
 * partial sums per weight, then each bias's sum: channel_sum's, taken image by
 * image while the image's dy is in cache).
 */
export function direct_weight_grad(dw: usize, db: usize, sums: usize, dy: usize, x: usize, N: i32, Cin: i32, HP: i32, WP: i32, Cout: i32, KH: i32, KW: i32, OH: i32, OW: i32, k0: i32, k1: i32): void {
  const KK = KH * KW, P = OH * OW, bsums = sums + (<usize>(Cout * Cin * KK) << 4);
  if (ASC_FEATURE_SIMD) {
    // one image at a time (its dy and x stay in L1 across the filter's taps: LeNet's conv1, caches flushed,
    // 539 µs over all 64 images at once, 498 µs), up to seven taps of a filter row at a time, their partial
    // sums in registers over the image's rows, kept in sums between images
    for (let n = 0; n < N; n++) {
      const more = n > 0;
      for (let k = k0; k < k1; k++) {
        const sk = sums + (<usize>(k * Cin * KK) << 4);
        for (let c = 0; c < Cin; c++) {
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw += 7) {
              const s = sk + (<usize>(((c * KH + kh) * KW) + kw) << 4);
              switch (min(KW - kw, 7)) {
                case 7: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 7); break;
                case 6: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 6); break;
                case 5: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 5); break;
                case 4: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 4); break;
                case 3: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 3); break;
                case 2: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 2); break;
                default: taps(s, dy, x, k, c, kh, kw, n, more, Cin, HP, WP, Cout, OH, OW, 1);
              }
            }
          }
        }
        if (db != 0) {
          // channel_sum's sums in its order, image by image
          const b = bsums + (<usize>k << 2);
          store<f32>(b, (more ? load<f32>(b) : 0) + sum8(dy + (<usize>((n * Cout + k) * P) << 2), P));
        }
      }
    }
  }
  for (let k = k0; k < k1; k++) {
    const sk = sums + (<usize>(k * Cin * KK) << 4);
    if (!ASC_FEATURE_SIMD) {
      // four partial sums per weight in memory, each taking the columns ≡ lane mod 4 in the same order as the SIMD build
      const rs = <usize>WP << 2, cs = <usize>(HP * WP) << 2;
      memory.fill(sk, 0, <usize>(Cin * KK) << 4);
      for (let n = 0; n < N; n++) {
        const dyk = dy + (<usize>((n * Cout + k) * OH * OW) << 2), xn = x + <usize>(n * Cin) * cs;
        for (let oh = 0; oh < OH; oh++) {
          const d = dyk + (<usize>(oh * OW) << 2);
          for (let c = 0; c < Cin; c++) {
            for (let kh = 0; kh < KH; kh++) {
              const xr = xn + <usize>c * cs + <usize>(oh + kh) * rs, st = sk + (<usize>((c * KH + kh) * KW) << 4);
              for (let kw = 0; kw < KW; kw++) {
                const s = st + (<usize>kw << 4), q = xr + (<usize>kw << 2);
                for (let ow = 0; ow < OW; ow++) {
                  const l = s + (<usize>(ow & 3) << 2);
                  store<f32>(l, load<f32>(l) + load<f32>(d + (<usize>ow << 2)) * load<f32>(q + (<usize>ow << 2)));
                }
              }
            }
          }
        }
      }
    }
    if (db != 0) {
      const g = db + (<usize>k << 2);
      store<f32>(g, load<f32>(g) + (ASC_FEATURE_SIMD ? load<f32>(bsums + (<usize>k << 2)) : channel_sum(dy, k, N, Cout, P)));
    }
    const dk = dw + (<usize>(k * Cin * KK) << 2);
    for (let t = 0; t < Cin * KK; t++) {
      const s = sk + (<usize>t << 4), g = dk + (<usize>t << 2);
      store<f32>(g, load<f32>(g) + ((load<f32>(s) + load<f32>(s, 4)) + (load<f32>(s, 8) + load<f32>(s, 12))));
    }
  }
}

/**
 * dw: [Cout, Cin, KH, KW] += for the filters
 * k0 … k1 − 1 of a direct convolution whose output went through ReLU and 2×2 max
 * pooling (direct_conv_relu_maxpool), from the pooled gradient alone: a window
 * passes its gradient (dyp where yp > 0) to the one output it took (idx 0…3),
 * so the weight gradient sums one input window per pooling window with a
 * gradient, where the full output gradient would take four (three of them
 * zeros, and all four where ReLU cut the window). dyp, yp, idx:
 * [N, Cout, OH/2, OW/2]; x: the padded input as direct_conv read it, followed
 * by at least 3 floats (the SIMD build reads a filter row as 4 or 8 floats);
 * list: pooled_grad_scratch(Cout, …) floats.
 *
 * Each weight is one sum over the windows whose gradient is not zero, image by
 * image, in scan order; the SIMD build takes a filter row's weights as the
 * lanes of one or two vectors (KW ≤ 4 or not), three filter rows at a time.
 */
export function direct_pooled_weight_grad(dw: usize, list: usize, dyp: usize, yp: usize, idx: usize, x: usize, N: i32, Cin: i32, HP: i32, WP: i32, Cout: i32, KH: i32, KW: i32, OH: i32, OW: i32, k0: i32, k1: i32): void {
  const PH = OH >> 1, PW = OW >> 1, P = PH * PW, pp = <usize>P << 2, cs = <usize>(HP * WP) << 2, rs = <usize>WP << 2;
  // the scratch, per filter: every window's top-left offset (the first filter's serving this call), the kept
  // windows' gradients and input offsets, the weights' sums (8 per filter row)
  const fb = <usize>pooled_grad_scratch(1, Cin, KH, OH, OW) << 2, lists = list + pp, tl = list + <usize>k0 * fb;
  for (let ph = 0, w = 0; ph < PH; ph++) {
    for (let pw = 0; pw < PW; pw++, w++) store<u32>(tl + (<usize>w << 2), <u32>(<usize>(2 * ph) * rs + (<usize>pw << 3)));
  }
  for (let k = k0; k < k1; k++) memory.fill(lists + <usize>k * fb + (pp << 1), 0, <usize>(Cin * KH) << 5);
  // image by image, its planes in memory order (filter by filter, the sums kept in memory between images)
  for (let n = 0; n < N; n++) {
    for (let k = k0; k < k1; k++) {
      const gl = lists + <usize>k * fb, ol = gl + pp, sums = ol + pp;
      const o = <usize>(n * Cout + k) * pp, m = window_list(gl, ol, tl, dyp + o, yp + o, idx + o, P, rs);
      for (let c = 0; c < Cin; c++) {
        const xc = x + <usize>(n * Cin + c) * cs;
        for (let kh = 0; kh < KH; kh += LIST_ROWS) {
          const rows = min(KH - kh, LIST_ROWS), s = sums + (<usize>(c * KH + kh) << 5), xr = xc + <usize>kh * rs;
          if (ASC_FEATURE_SIMD) {
            if (KW > 4) {
              if (rows == 3) list_taps(s, gl, ol, m, xr, rs, 3, true);
              else if (rows == 2) list_taps(s, gl, ol, m, xr, rs, 2, true);
              else list_taps(s, gl, ol, m, xr, rs, 1, true);
            } else {
              if (rows == 3) list_taps(s, gl, ol, m, xr, rs, 3, false);
              else if (rows == 2) list_taps(s, gl, ol, m, xr, rs, 2, false);
              else list_taps(s, gl, ol, m, xr, rs, 1, false);
            }
          } else {
            for (let i = 0; i < rows; i++) {
              for (let kw = 0; kw < KW; kw++) {
                const t = s + (<usize>(8 * i + kw) << 2), q = xr + <usize>i * rs + (<usize>kw << 2);
                let a = load<f32>(t);
                for (let e = 0; e < m; e++) a += load<f32>(gl + (<usize>e << 2)) * load<f32>(q + load<u32>(ol + (<usize>e << 2)));
                store<f32>(t, a);
              }
            }
          }
        }
      }
    }
  }
  for (let k = k0; k < k1; k++) {
    const sums = lists + <usize>k * fb + (pp << 1);
    for (let r = 0; r < Cin * KH; r++) {
      const d = dw + (<usize>((k * Cin * KH + r) * KW) << 2), t = sums + (<usize>r << 5);
      for (let kw = 0; kw < KW; kw++) store<f32>(d + (<usize>kw << 2), load<f32>(d + (<usize>kw << 2)) + load<f32>(t + (<usize>kw << 2)));
    }
  }
}

/** Filter rows whose sums list_taps keeps in registers over a list (six vectors; with ten V8 hoists the loads and spills). */
const LIST_ROWS: i32 = 3;

/** Floats of direct_pooled_weight_grad's scratch for Cout filters: per filter three words per window and 8 floats per filter row. */
export function pooled_grad_scratch(Cout: i32, Cin: i32, KH: i32, OH: i32, OW: i32): i32 {
  return Cout * (3 * (OH >> 1) * (OW >> 1) + 8 * Cin * KH);
}

/**
 * The P windows of one pooled plane (dyp, yp, idx) whose gradient (dyp where
 * yp > 0) is not zero, in scan order: their gradients to gl, the byte offsets in
 * the input plane of the outputs they took to ol (from tl, each window's
 * top-left offset, and idx). Returns how many. Every window is written and
 * kept by advancing m when its gradient is not zero: no branch on the data.
 */
function window_list(gl: usize, ol: usize, tl: usize, dyp: usize, yp: usize, idx: usize, P: i32, rs: usize): i32 {
  let m = 0, w = 0;
  if (ASC_FEATURE_SIMD) {
    const one = i32x4.splat(1), down = i32x4.splat(<i32>rs);
    for (; w + 4 <= P; w += 4) {
      const q = <usize>w << 2;
      const g = where_positive4(v128.load(dyp + q), v128.load(yp + q)), e = v128.load(idx + q);
      const off = i32x4.add(i32x4.add(v128.load(tl + q), v128.and(i32x4.gt_s(e, one), down)), i32x4.shl(v128.and(e, one), 2));
      m = keep(gl, ol, m, i32x4.extract_lane(g, 0), i32x4.extract_lane(off, 0));
      m = keep(gl, ol, m, i32x4.extract_lane(g, 1), i32x4.extract_lane(off, 1));
      m = keep(gl, ol, m, i32x4.extract_lane(g, 2), i32x4.extract_lane(off, 2));
      m = keep(gl, ol, m, i32x4.extract_lane(g, 3), i32x4.extract_lane(off, 3));
    }
  }
  for (; w < P; w++) {
    const q = <usize>w << 2, e = load<i32>(idx + q);
    m = keep(gl, ol, m, reinterpret<i32>(where_positive(dyp, yp, q)), load<i32>(tl + q) + select(<i32>rs, 0, e > 1) + ((e & 1) << 2));
  }
  return m;
}

/** Writes entry m of the list (gradient bits g, offset off); returns m + 1 unless g is ±0. */
// @ts-ignore: decorator
@inline
function keep(gl: usize, ol: usize, m: i32, g: i32, off: i32): i32 {
  store<i32>(gl + (<usize>m << 2), g);
  store<i32>(ol + (<usize>m << 2), off);
  return m + i32((g & 0x7fffffff) != 0);
}

/**
 * Continues the sums s (8 floats per filter row: lane kw of a[i], or of b[i]
 * for kw − 4 when `wide`) of `rows` filter rows over the m windows of a list,
 * reading the input rows from xr. rows and wide: constants once inlined; lanes
 * past KW sum inputs beside the window, unused.
 */
// @ts-ignore: decorator
@inline
function list_taps(s: usize, gl: usize, ol: usize, m: i32, xr: usize, rs: usize, rows: i32, wide: bool): void {
  let a0 = v128.load(s), b0 = v128.load(s, 16), a1 = v128.load(s, 32), b1 = v128.load(s, 48), a2 = v128.load(s, 64), b2 = v128.load(s, 80);
  for (let e: usize = 0, end = <usize>m << 2; e < end; e += 4) {
    const g = v128.load32_splat(gl + e), p = xr + load<u32>(ol + e);
    a0 = f32x4.add(a0, f32x4.mul(g, v128.load(p))); if (wide) b0 = f32x4.add(b0, f32x4.mul(g, v128.load(p, 16)));
    if (rows > 1) { a1 = f32x4.add(a1, f32x4.mul(g, v128.load(p + rs))); if (wide) b1 = f32x4.add(b1, f32x4.mul(g, v128.load(p + rs, 16))); }
    if (rows > 2) { a2 = f32x4.add(a2, f32x4.mul(g, v128.load(p + 2 * rs))); if (wide) b2 = f32x4.add(b2, f32x4.mul(g, v128.load(p + 2 * rs, 16))); }
  }
  v128.store(s, a0); v128.store(s, b0, 16);
  if (rows > 1) { v128.store(s, a1, 32); v128.store(s, b1, 48); }
  if (rows > 2) { v128.store(s, a2, 64); v128.store(s, b2, 80); }
}

/**
 * s[i] (vectors, i < nk: a constant once inlined) = the partial sums of weights
 * (k, c, kh, kw + i), continued from s's when `more`: Σ over image n's output
 * rows of dy's row times the input
 * row under it shifted by kw + i, lane j taking the columns ≡ j mod 4; the last
 * OW mod 4 columns of each row go lane by lane, in order.
 */
// @ts-ignore: decorator
@inline
function taps(s: usize, dy: usize, x: usize, k: i32, c: i32, kh: i32, kw: i32, n: i32, more: bool, Cin: i32, HP: i32, WP: i32, Cout: i32, OH: i32, OW: i32, nk: i32): void {
  const z = f32x4.splat(0), nv = OW >> 2, rs = <usize>WP << 2;
  let a0 = more ? v128.load(s) : z, a1 = more && nk > 1 ? v128.load(s, 16) : z, a2 = more && nk > 2 ? v128.load(s, 32) : z, a3 = more && nk > 3 ? v128.load(s, 48) : z;
  let a4 = more && nk > 4 ? v128.load(s, 64) : z, a5 = more && nk > 5 ? v128.load(s, 80) : z, a6 = more && nk > 6 ? v128.load(s, 96) : z;
  let d = dy + (<usize>((n * Cout + k) * OH * OW) << 2);
  let q = x + (<usize>(((n * Cin + c) * HP + kh) * WP + kw) << 2);
  for (let oh = 0; oh < OH; oh++, d += <usize>OW << 2, q += rs) {
    for (let v = 0; v < nv; v++) {
      const o = <usize>v << 4, g = v128.load(d + o), p = q + o;
      a0 = f32x4.add(a0, f32x4.mul(g, v128.load(p)));
      if (nk > 1) a1 = f32x4.add(a1, f32x4.mul(g, v128.load(p, 4)));
      if (nk > 2) a2 = f32x4.add(a2, f32x4.mul(g, v128.load(p, 8)));
      if (nk > 3) a3 = f32x4.add(a3, f32x4.mul(g, v128.load(p, 12)));
      if (nk > 4) a4 = f32x4.add(a4, f32x4.mul(g, v128.load(p, 16)));
      if (nk > 5) a5 = f32x4.add(a5, f32x4.mul(g, v128.load(p, 20)));
      if (nk > 6) a6 = f32x4.add(a6, f32x4.mul(g, v128.load(p, 24)));
    }
    for (let ow = nv << 2; ow < OW; ow++) {
      const g = load<f32>(d + (<usize>ow << 2)), p = q + (<usize>ow << 2), j = ow & 3;
      a0 = lane_add(a0, j, g * load<f32>(p));
      if (nk > 1) a1 = lane_add(a1, j, g * load<f32>(p, 4));
      if (nk > 2) a2 = lane_add(a2, j, g * load<f32>(p, 8));
      if (nk > 3) a3 = lane_add(a3, j, g * load<f32>(p, 12));
      if (nk > 4) a4 = lane_add(a4, j, g * load<f32>(p, 16));
      if (nk > 5) a5 = lane_add(a5, j, g * load<f32>(p, 20));
      if (nk > 6) a6 = lane_add(a6, j, g * load<f32>(p, 24));
    }
  }
  v128.store(s, a0);
  if (nk > 1) v128.store(s, a1, 16);
  if (nk > 2) v128.store(s, a2, 32);
  if (nk > 3) v128.store(s, a3, 48);
  if (nk > 4) v128.store(s, a4, 64);
  if (nk > 5) v128.store(s, a5, 80);
  if (nk > 6) v128.store(s, a6, 96);
}
