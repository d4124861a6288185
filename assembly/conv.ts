// 3×3 convolution, stride 1, no padding, NCHW, as im2col + matrix multiply.
//
// The column matrix is [Cin·9 × N·OH·OW] (rows (ci,kh,kw), columns (n,oh,ow)),
// so each row is built from runs of OW contiguous input floats and the weight
// [Cout × Cin·9] multiplies it without any transpose. The product comes out
// channel-major ([Cout × N·P]); one pass turns it into NCHW and adds the bias.
import { gemm, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } from "./gemm";

/**
 * y: [N, Cout, OH, OW] out; col: [Cin·9, N·OH·OW] out (kept for backward);
 * yc: [Cout, N·OH·OW] scratch; x: [N, Cin, H, W]; w: [Cout, Cin, 3, 3]; bias: [Cout].
 */
export function conv3x3_forward(
  y: usize, col: usize, yc: usize,
  x: usize, w: usize, bias: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
): void {
  const OH = H - 2, OW = W - 2, P = OH * OW, NP = N * P, K = Cin * 9;
  im2col_3x3(col, x, N, Cin, H, W);
  gemm(yc, w, col, Cout, NP, K, K, NP, NP, 0);
  channel_major_to_nchw_bias(y, yc, bias, N, Cout, P);
}

/**
 * dw: [Cout, Cin, 3, 3] += ; db: [Cout] += ; dx: [N, Cin, H, W] overwritten (skipped when 0);
 * dyc: [Cout, N·P] scratch; dy: [N, Cout, OH, OW]; w: weights; col: from forward
 * (overwritten by the input gradient's columns when dx != 0).
 */
export function conv3x3_backward(
  dx: usize, dw: usize, db: usize, dyc: usize,
  dy: usize, w: usize, col: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
): void {
  const OH = H - 2, OW = W - 2, P = OH * OW, NP = N * P, K = Cin * 9;
  nchw_to_channel_major_bias_grad(dyc, db, dy, N, Cout, P);
  // dW[Cout×K] += dYc[Cout×NP] · colᵀ
  gemm(dw, dyc, col, Cout, K, NP, NP, NP, K, GEMM_TRANS_B | GEMM_ACCUMULATE);
  if (dx != 0) {
    // dcol[K×NP] = Wᵀ · dYc, then scatter-add back to the image.
    gemm(col, w, dyc, K, NP, Cout, K, NP, NP, GEMM_TRANS_A);
    col2im_3x3(dx, col, N, Cin, H, W);
  }
}

// @ts-ignore: decorator
@inline
function copy_run(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline
function add_run(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const d = dst + (<usize>i << 2);
      v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>i << 2))));
    }
  }
  for (; i < n; i++) {
    const d = dst + (<usize>i << 2);
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>i << 2)));
  }
}

/** col: [C·9, N·OH·OW] out; x: [N, C, H, W]. */
export function im2col_3x3(col: usize, x: usize, N: i32, C: i32, H: i32, W: i32): void {
  const OH = H - 2, OW = W - 2;
  let d = col;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        for (let n = 0; n < N; n++) {
          let s = x + (<usize>(((n * C + c) * H + kh) * W + kw) << 2);
          for (let oh = 0; oh < OH; oh++) {
            copy_run(d, s, OW);
            d += <usize>OW << 2;
            s += <usize>W << 2;
          }
        }
      }
    }
  }
}

/** dx: [N, C, H, W] overwritten with the sum of the columns' contributions; col: [C·9, N·OH·OW]. */
export function col2im_3x3(dx: usize, col: usize, N: i32, C: i32, H: i32, W: i32): void {
  const OH = H - 2, OW = W - 2;
  memory.fill(dx, 0, <usize>(N * C * H * W) << 2);
  let s = col;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        for (let n = 0; n < N; n++) {
          let d = dx + (<usize>(((n * C + c) * H + kh) * W + kw) << 2);
          for (let oh = 0; oh < OH; oh++) {
            add_run(d, s, OW);
            s += <usize>OW << 2;
            d += <usize>W << 2;
          }
        }
      }
    }
  }
}

/** y: [N, C, P] = yc: [C, N·P] transposed by blocks, plus bias[c]. */
export function channel_major_to_nchw_bias(y: usize, yc: usize, bias: usize, N: i32, C: i32, P: i32): void {
  for (let c = 0; c < C; c++) {
    const bc = load<f32>(bias + (<usize>c << 2));
    for (let n = 0; n < N; n++) {
      const s = yc + (<usize>((c * N + n) * P) << 2);
      const d = y + (<usize>((n * C + c) * P) << 2);
      let p = 0;
      if (ASC_FEATURE_SIMD) {
        const bv = f32x4.splat(bc);
        for (; p + 4 <= P; p += 4) v128.store(d + (<usize>p << 2), f32x4.add(v128.load(s + (<usize>p << 2)), bv));
      }
      for (; p < P; p++) store<f32>(d + (<usize>p << 2), load<f32>(s + (<usize>p << 2)) + bc);
    }
  }
}

/** dyc: [C, N·P] = dy: [N, C, P] rearranged; db[c] += sum of dy over n and p. */
export function nchw_to_channel_major_bias_grad(dyc: usize, db: usize, dy: usize, N: i32, C: i32, P: i32): void {
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) {
      copy_run(dyc + (<usize>((c * N + n) * P) << 2), dy + (<usize>((n * C + c) * P) << 2), P);
    }
    const g = db + (<usize>c << 2);
    store<f32>(g, load<f32>(g) + sum4(dyc + (<usize>(c * N * P) << 2), N * P));
  }
}

/**
 * Sum of n floats in a fixed order: four interleaved partial sums (lane j takes
 * i ≡ j mod 4), combined as (s0+s1)+(s2+s3), then the tail. Both builds follow
 * this order, so their sums are bit-identical.
 */
export function sum4(p: usize, n: i32): f32 {
  const n4 = n & ~3;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) v = f32x4.add(v, v128.load(p + (<usize>i << 2)));
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let i = 0; i < n4; i += 4) {
      const q = p + (<usize>i << 2);
      s0 += load<f32>(q); s1 += load<f32>(q, 4); s2 += load<f32>(q, 8); s3 += load<f32>(q, 12);
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (let i = n4; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}
