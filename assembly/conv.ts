// 3×3 convolution, stride 1, no padding, NCHW, as im2col + matrix multiply.
//
// Where the output sides are multiples of 4 and the layer is wide enough, the
// product is computed by Winograd's F(4×4, 3×3) instead (winograd.ts): a
// quarter of the multiplies. `col` is the kernels' workspace (the columns, or
// Winograd's transforms); conv3x3_workspace says how many floats it needs.
//
// The column matrix is [Cin·9 × N·OH·OW] (rows (ci,kh,kw), columns (n,oh,ow)),
// so each row is built from runs of OW contiguous input floats and the weight
// [Cout × Cin·9] multiplies it without any transpose. The product comes out
// channel-major ([Cout × N·P]); one pass turns it into NCHW and adds the bias.
// A first layer (few inputs) multiplies image by image straight into NCHW.
import { gemm, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } from "./gemm";
import { sum8, sqdev8, dot_sums4, channel_sum } from "./reduce";
import { winograd_applies, winograd_workspace, winograd_product, winograd_product_backward } from "./winograd";
import { barrier, part_from, part_to } from "./threads";
import { bnSums, stageA } from "./workspace";

/**
 * y: [N, Cout, OH, OW] out; col: conv3x3_workspace floats out (kept for backward);
 * yc: [Cout, N·OH·OW] scratch; x: [N, Cin, H, W]; w: [Cout, Cin, 3, 3]; bias: [Cout].
 * part, parts: this thread's share of a split call (0, 1 alone): Winograd and
 * a first layer split by images; the general path runs on part 0.
 */
export function conv3x3_forward(
  y: usize, col: usize, yc: usize,
  x: usize, w: usize, bias: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
  part: i32, parts: i32,
): void {
  if (winograd_applies(Cin, H, W)) {
    winograd_product(y, 0, col, x, w, bias, N, Cin, H, W, Cout, 3, true, true, part, parts); // straight to NCHW, bias added
    return;
  }
  const P = (H - 2) * (W - 2), K = Cin * 9, NP = N * P;
  if (few_inputs(K)) {
    // y_n[Cout×P] = [W | bias]·[col_n; 1]: the bias rides as a last weight column
    const wb = small_block(col, K, NP);
    const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
    im2col_3x3_images(col, x, N, Cin, H, W, n0, n1);
    fill_run(col + (<usize>(K * NP + n0 * P) << 2), 1, (n1 - n0) * P);
    if (part == 0) {
      for (let c = 0; c < Cout; c++) {
        const d = wb + (<usize>(c * (K + 1)) << 2);
        memory.copy(d, w + (<usize>(c * K) << 2), <usize>K << 2);
        store<f32>(d + (<usize>K << 2), load<f32>(bias + (<usize>c << 2)));
      }
    }
    barrier(parts);
    for (let n = n0; n < n1; n++) gemm(y + (<usize>(n * Cout * P) << 2), wb, col + (<usize>(n * P) << 2), Cout, P, K + 1, K + 1, NP, P, 0);
    return;
  }
  if (part != 0) return;
  conv_product(yc, col, x, w, N, Cin, H, W, Cout, 0, 1);
  for (let c = 0; c < Cout; c++) channel_to_nchw(y, yc, c, N, Cout, P, 1, load<f32>(bias + (<usize>c << 2)));
}

/**
 * dw: [Cout, Cin, 3, 3] += ; db: [Cout] += ; dx: [N, Cin, H, W] overwritten (skipped when 0);
 * dyc: [Cout, N·P] scratch; dy: [N, Cout, OH, OW]; w: weights; col: from the forward
 * (overwritten when dx != 0). part, parts: as conv3x3_forward (the bias gradient
 * split by channels, a first layer's weight gradient by blocks of 16 filters).
 */
export function conv3x3_backward(
  dx: usize, dw: usize, db: usize, dyc: usize,
  dy: usize, w: usize, col: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
  part: i32, parts: i32,
): void {
  const P = (H - 2) * (W - 2), K = Cin * 9;
  for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
    const g = db + (<usize>c << 2);
    store<f32>(g, load<f32>(g) + channel_sum(dy, c, N, Cout, P));
  }
  // Winograd, and a first layer's weight gradient, read dy in place; the rest take it channel-major.
  if (winograd_applies(Cin, H, W)) {
    winograd_product_backward(dx, dw, dy, 0, 0, col, N, Cin, H, W, Cout, 3, true, part, parts);
  } else if (dx == 0 && few_inputs(K)) {
    // dWᵀ[K×Cout] = Σ over images of col_n[K×P] · dy_nᵀ, dy_n = dy[n] as [Cout×P]; this part's filters j0 … j1 − 1
    const dwt = small_block(col, K, N * P);
    const j0 = part_from(Cout, 16, part, parts), j1 = part_to(Cout, 16, part, parts);
    if (j1 > j0) {
      for (let n = 0; n < N; n++) {
        gemm(dwt + (<usize>j0 << 2), col + (<usize>(n * P) << 2), dy + (<usize>((n * Cout + j0) * P) << 2), K, j1 - j0, P, N * P, P, Cout, GEMM_TRANS_B | (n > 0 ? GEMM_ACCUMULATE : 0));
      }
      add_transposed(dw, dwt, K, Cout, j0, j1);
    }
  } else if (part == 0) {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < Cout; c++) copy_run(dyc + (<usize>((c * N + n) * P) << 2), dy + (<usize>((n * Cout + c) * P) << 2), P);
    }
    conv_product_backward(dx, dw, dyc, w, col, N, Cin, H, W, Cout, 0, 1);
  }
}

// ---- convolution fused with the batch norm that follows it (BatchNorm2d) ----
// Statistics and the affine map are taken on the channel-major product, whose
// rows are contiguous, on the way to NCHW: batch norm costs two passes over
// contiguous memory instead of four strided ones. The conv bias shifts the
// batch mean only, so it cancels in training; it still moves the running mean.

/**
 * Training forward of conv → batch norm. y: [N, Cout, OH, OW] out (normalised);
 * col, yc: as conv3x3_forward, both kept for backward; mean, invstd: [Cout] out,
 * statistics of yc (the product without bias); runMean, runVar: [Cout] updated
 * as PyTorch does (mean of the biased conv output, unbiased variance);
 * gamma, beta: [Cout]. part, parts: split by images for the product, then by channels.
 */
export function conv3x3_batchnorm_forward_train(
  y: usize, col: usize, yc: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, w: usize, bias: usize, gamma: usize, beta: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, momentum: f32, eps: f32,
  part: i32, parts: i32,
): void {
  const P = (H - 2) * (W - 2), NP = N * P;
  if (gram_statistics(Cin, H, W)) {
    first_layer_batchnorm_forward_train(y, col, mean, invstd, runMean, runVar, x, w, bias, gamma, beta, N, Cin, H, W, Cout, momentum, eps, part, parts);
    return;
  }
  conv_product(yc, col, x, w, N, Cin, H, W, Cout, part, parts);
  barrier(parts); // statistics need every image of a channel
  for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
    const o = <usize>c << 2;
    const row = yc + (<usize>(c * NP) << 2);
    const mu: f32 = sum8(row, NP) / <f32>NP;
    const sq = sqdev8(row, NP, mu);
    const is: f32 = 1 / Mathf.sqrt(sq / <f32>NP + eps);
    store<f32>(mean + o, mu);
    store<f32>(invstd + o, is);
    store<f32>(runMean + o, (1 - momentum) * load<f32>(runMean + o) + momentum * (mu + load<f32>(bias + o)));
    const unbiased: f32 = NP > 1 ? sq / <f32>(NP - 1) : sq;
    store<f32>(runVar + o, (1 - momentum) * load<f32>(runVar + o) + momentum * unbiased);
    const scale = load<f32>(gamma + o) * is;
    channel_to_nchw(y, yc, c, N, Cout, P, scale, load<f32>(beta + o) - mu * scale);
  }
}

/**
 * Evaluation forward of conv → batch norm, with the running statistics. Batch
 * norm is then an affine map per channel: it is folded into the convolution's
 * weights and bias (kept at the end of col), and the plain convolution runs.
 * part, parts: folded by channels, then as conv3x3_forward.
 */
export function conv3x3_batchnorm_forward_eval(
  y: usize, col: usize, yc: usize,
  x: usize, w: usize, bias: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, eps: f32,
  part: i32, parts: i32,
): void {
  const K = Cin * 9;
  const wf = col + (<usize>product_workspace(N, Cin, H, W, Cout) << 2), bf = wf + (<usize>(Cout * K) << 2);
  for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
    const o = <usize>c << 2;
    const scale = load<f32>(gamma + o) / Mathf.sqrt(load<f32>(runVar + o) + eps);
    for (let k = 0; k < K; k++) {
      const q = <usize>(c * K + k) << 2;
      store<f32>(wf + q, load<f32>(w + q) * scale);
    }
    store<f32>(bf + o, load<f32>(beta + o) + (load<f32>(bias + o) - load<f32>(runMean + o)) * scale);
  }
  barrier(parts); // every channel folded
  conv3x3_forward(y, col, yc, x, wf, bf, N, Cin, H, W, Cout, part, parts);
}

/**
 * Backward of conv → batch norm. dx: as conv3x3_backward; dw, dgamma, dbeta += ; db is left
 * unchanged (batch norm makes the conv bias gradient exactly zero);
 * dyc: [Cout, N·P] scratch; dy: [N, Cout, OH, OW], gradient of the normalised output;
 * yc, col, mean, invstd: from the training forward; w, gamma: parameters.
 * part, parts: split by channels, then as the product's backward.
 */
export function conv3x3_batchnorm_backward(
  dx: usize, dw: usize, db: usize, dgamma: usize, dbeta: usize, dyc: usize,
  dy: usize, w: usize, gamma: usize, col: usize, yc: usize, mean: usize, invstd: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
  part: i32, parts: i32,
): void {
  const P = (H - 2) * (W - 2), NP = N * P, K = Cin * 9;
  if (gram_statistics(Cin, H, W)) {
    if (dx == 0) {
      first_layer_batchnorm_backward(dw, dgamma, dbeta, dy, w, gamma, col, mean, invstd, N, Cin, H, W, Cout, part, parts);
      return;
    }
    // the few-inputs forward keeps no product: remake it for the general path below
    const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts), off = <usize>(n0 * P) << 2;
    if (n1 > n0) gemm(yc + off, w, col + off, Cout, (n1 - n0) * P, K, K, NP, NP, 0);
    barrier(parts);
  }
  const m = <f32>NP;
  for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
    const o = <usize>c << 2;
    const row = dyc + (<usize>(c * NP) << 2);
    const xrow = yc + (<usize>(c * NP) << 2);
    const mu = load<f32>(mean + o), is = load<f32>(invstd + o);
    store<f32>(bnSums, 0); store<f32>(bnSums, 0, 4);
    for (let n = 0; n < N; n++) {
      const r = <usize>(n * P) << 2;
      dot_sums4(dy + (<usize>((n * Cout + c) * P) << 2), xrow + r, P, mu, bnSums);
    }
    const sdy = load<f32>(bnSums), dg = load<f32>(bnSums, 4) * is;
    store<f32>(dgamma + o, load<f32>(dgamma + o) + dg);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + sdy);
    // d(conv output) = a·dy + b·yc + k  (γ·σ⁻¹·(dy − Σdy/m − x̂·Σ(dy·x̂)/m)), gathered into the row
    const a = load<f32>(gamma + o) * is;
    const b = -a * is * dg / m;
    const k = -a * sdy / m - b * mu;
    for (let n = 0; n < N; n++) {
      const r = <usize>(n * P) << 2;
      affine2_run(row + r, dy + (<usize>((n * Cout + c) * P) << 2), xrow + r, P, a, b, k);
    }
    // The conv bias's gradient is Σ of this row, which batch norm makes exactly
    // zero (PyTorch's value is rounding noise): db is left as it is.
  }
  barrier(parts); // every channel's rows of dyc
  conv_product_backward(dx, dw, dyc, w, col, N, Cin, H, W, Cout, part, parts);
}

// ---- a first layer (few inputs) with batch norm: statistics from the columns' Gram matrix ----
// With K + 1 ≤ 16 column rows (the last all ones), the product's channel c is
// w_c·col, so its batch mean is w_c·(col's row sums)/m and its mean square
// w_cᵀ·G·w_c/m for the small Gram matrix G = [col; 1]·[col; 1]ᵀ. Batch norm
// then folds into the weights and the product goes straight to NCHW, as in
// evaluation; backward, Σdy, Σdy·x̂ and the weight gradient follow from
// [col; 1]·dyᵀ (one product over dy) and G. No pass over the product or its
// gradient at all. Both small matrices are summed in float64 from products
// over a few hundred columns at a time (one float32 chain over every column
// would lose digits the two-pass statistics keep), and the algebra runs in float64.

/** Whether a conv + batch norm takes this path: few inputs (a first layer), not Winograd's. */
// @ts-ignore: decorator
@inline
function gram_statistics(Cin: i32, H: i32, W: i32): bool {
  return !winograd_applies(Cin, H, W) && few_inputs(Cin * 9);
}

/** Columns per float32 partial product before it is added up in float64. */
const GRAM_BLOCK: i32 = 512;

/** G (float64, K1×K1) and T = Σ[col; 1]·dyᵀ (float64, K1×Cout): after the folded weights and bias that conv3x3_workspace reserves. */
// @ts-ignore: decorator
@inline
function gram_block(col: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32): usize {
  return col + (<usize>(product_workspace(N, Cin, H, W, Cout) + Cout * (Cin * 9 + 1)) << 2);
}

function first_layer_batchnorm_forward_train(
  y: usize, col: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, w: usize, bias: usize, gamma: usize, beta: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32, momentum: f32, eps: f32,
  part: i32, parts: i32,
): void {
  const P = (H - 2) * (W - 2), NP = N * P, K = Cin * 9, K1 = K + 1, m = <f64>NP;
  const G = gram_block(col, N, Cin, H, W, Cout), wb = small_block(col, K, NP);
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts);
  im2col_3x3_images(col, x, N, Cin, H, W, n0, n1);
  fill_run(col + (<usize>(K * NP + n0 * P) << 2), 1, (n1 - n0) * P);
  barrier(parts); // every image's columns
  // this part's rows r0 … r1 − 1 of G, GRAM_BLOCK columns at a time into stageA (few inputs means Cin = 1: K1 = 10, at most 100 of its 144 floats)
  const r0 = part_from(K1, 2, part, parts), r1 = part_to(K1, 2, part, parts);
  for (let i = r0 * K1; i < r1 * K1; i++) store<f64>(G + (<usize>i << 3), 0);
  for (let b0 = 0; b0 < NP && r1 > r0; b0 += GRAM_BLOCK) {
    const nb = min(GRAM_BLOCK, NP - b0);
    gemm(stageA, col + (<usize>(r0 * NP + b0) << 2), col + (<usize>b0 << 2), r1 - r0, K1, nb, NP, NP, K1, GEMM_TRANS_B);
    for (let i = 0; i < (r1 - r0) * K1; i++) {
      const g = G + (<usize>(r0 * K1 + i) << 3);
      store<f64>(g, load<f64>(g) + <f64>load<f32>(stageA + (<usize>i << 2)));
    }
  }
  barrier(parts); // G whole
  for (let c = part_from(Cout, 1, part, parts); c < part_to(Cout, 1, part, parts); c++) {
    const o = <usize>c << 2, wc = w + (<usize>(c * K) << 2);
    let mu: f64 = 0, sq: f64 = 0;
    for (let i = 0; i < K; i++) {
      const wi = <f64>load<f32>(wc + (<usize>i << 2));
      mu += wi * load<f64>(G + (<usize>(K * K1 + i) << 3));
      let t: f64 = 0;
      for (let j = 0; j < K; j++) t += load<f64>(G + (<usize>(i * K1 + j) << 3)) * <f64>load<f32>(wc + (<usize>j << 2));
      sq += wi * t;
    }
    mu /= m;
    const v = max(sq / m - mu * mu, 0); // biased variance of the product
    const is = 1 / Math.sqrt(v + <f64>eps);
    store<f32>(mean + o, <f32>mu);
    store<f32>(invstd + o, <f32>is);
    store<f32>(runMean + o, (1 - momentum) * load<f32>(runMean + o) + momentum * (<f32>mu + load<f32>(bias + o)));
    store<f32>(runVar + o, (1 - momentum) * load<f32>(runVar + o) + momentum * <f32>(NP > 1 ? v * m / (m - 1) : v));
    // [w·scale | β − μ·scale]: the conv bias cancels in batch norm
    const scale = <f64>load<f32>(gamma + o) * is, d = wb + (<usize>(c * K1) << 2);
    for (let i = 0; i < K; i++) store<f32>(d + (<usize>i << 2), <f32>(<f64>load<f32>(wc + (<usize>i << 2)) * scale));
    store<f32>(d + (<usize>K << 2), <f32>(<f64>load<f32>(beta + o) - mu * scale));
  }
  barrier(parts); // every channel folded
  for (let n = n0; n < n1; n++) gemm(y + (<usize>(n * Cout * P) << 2), wb, col + (<usize>(n * P) << 2), Cout, P, K1, K1, NP, P, 0);
}

function first_layer_batchnorm_backward(
  dw: usize, dgamma: usize, dbeta: usize,
  dy: usize, w: usize, gamma: usize, col: usize, mean: usize, invstd: usize,
  N: i32, Cin: i32, H: i32, W: i32, Cout: i32,
  part: i32, parts: i32,
): void {
  const P = (H - 2) * (W - 2), NP = N * P, K = Cin * 9, K1 = K + 1, m = <f64>NP;
  const G = gram_block(col, N, Cin, H, W, Cout), T = G + (<usize>(K1 * K1) << 3), tb = small_block(col, K, NP);
  // T[K1×Cout] = Σ over images of [col; 1]_n · dy_nᵀ: Σdy·col for each filter, and Σdy in the last row;
  // each image's product in float32 (tb), summed in float64
  const j0 = part_from(Cout, 16, part, parts), j1 = part_to(Cout, 16, part, parts);
  if (j1 <= j0) return;
  for (let i = 0; i < K1; i++) for (let c = j0; c < j1; c++) store<f64>(T + (<usize>(i * Cout + c) << 3), 0);
  for (let n = 0; n < N; n++) {
    gemm(tb + (<usize>j0 << 2), col + (<usize>(n * P) << 2), dy + (<usize>((n * Cout + j0) * P) << 2), K1, j1 - j0, P, NP, P, Cout, GEMM_TRANS_B);
    for (let i = 0; i < K1; i++) {
      for (let c = j0; c < j1; c++) {
        const q = T + (<usize>(i * Cout + c) << 3);
        store<f64>(q, load<f64>(q) + <f64>load<f32>(tb + (<usize>(i * Cout + c) << 2)));
      }
    }
  }
  for (let c = j0; c < j1; c++) {
    const o = <usize>c << 2, wc = w + (<usize>(c * K) << 2);
    const sdy = load<f64>(T + (<usize>(K * Cout + c) << 3)), mu = <f64>load<f32>(mean + o), is = <f64>load<f32>(invstd + o);
    let dyy: f64 = 0; // Σ dy·(w_c·col)
    for (let i = 0; i < K; i++) dyy += <f64>load<f32>(wc + (<usize>i << 2)) * load<f64>(T + (<usize>(i * Cout + c) << 3));
    const dg = is * (dyy - mu * sdy); // Σ dy·x̂
    store<f32>(dgamma + o, load<f32>(dgamma + o) + <f32>dg);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + <f32>sdy);
    // d(product) = a·dy + b·(w_c·col) + k, so dw_c = a·Σdy·col + b·G·w_c + k·Σcol
    const a = <f64>load<f32>(gamma + o) * is, b = -a * is * dg / m, k = -a * sdy / m - b * mu;
    for (let i = 0; i < K; i++) {
      let gw: f64 = 0;
      for (let j = 0; j < K; j++) gw += load<f64>(G + (<usize>(i * K1 + j) << 3)) * <f64>load<f32>(wc + (<usize>j << 2));
      const g = dw + (<usize>(c * K + i) << 2);
      const v = a * load<f64>(T + (<usize>(i * Cout + c) << 3)) + b * gw + k * load<f64>(G + (<usize>(K * K1 + i) << 3));
      store<f32>(g, load<f32>(g) + <f32>v);
    }
  }
}

// ---- shared pieces ----

/** Floats the `col` workspace of the convolution kernels must hold for these sizes. */
export function conv3x3_workspace(N: i32, Cin: i32, H: i32, W: i32, Cout: i32): i32 {
  const K = Cin * 9, gram = gram_statistics(Cin, H, W) ? 2 * (K + 1) * (K + 1 + Cout) : 0; // float64 G and T
  return product_workspace(N, Cin, H, W, Cout) + Cout * (K + 1) + gram; // + batch norm's folded weights and bias, and a first layer's Gram matrix
}

function product_workspace(N: i32, Cin: i32, H: i32, W: i32, Cout: i32): i32 {
  if (winograd_applies(Cin, H, W)) return winograd_workspace(N, Cin, H, W, Cout, 3);
  const K = Cin * 9, NP = N * (H - 2) * (W - 2);
  return few_inputs(K) ? (K + 1) * NP + Cout * (K + 1) : K * NP;
}

/**
 * Few inputs (a first layer: K = Cin·9 < 16). The forward then multiplies each
 * image's columns straight into NCHW, and the weight gradient is computed as
 * dWᵀ[K×Cout], so that the 16-wide panels run across Cout instead of being
 * mostly padding. Both use small_block: the workspace after K + 1 column rows.
 */
// @ts-ignore: decorator
@inline
function few_inputs(K: i32): bool {
  return K < 16;
}

// @ts-ignore: decorator
@inline
function small_block(col: usize, K: i32, NP: i32): usize {
  return col + (<usize>((K + 1) * NP) << 2);
}

/** dw[Cout×K] += tᵀ for t: [K×Cout], rows c0 … c1 − 1 of dw. */
function add_transposed(dw: usize, t: usize, K: i32, Cout: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    for (let kk = 0; kk < K; kk++) {
      const d = dw + (<usize>(c * K + kk) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(t + (<usize>(kk * Cout + c) << 2)));
    }
  }
}

/** yc[Cout × N·P] = W[Cout × Cin·9] · im2col(x); part, parts: split by images (columns). */
function conv_product(yc: usize, col: usize, x: usize, w: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, part: i32, parts: i32): void {
  if (winograd_applies(Cin, H, W)) {
    winograd_product(yc, 0, col, x, w, 0, N, Cin, H, W, Cout, 3, false, true, part, parts);
    return;
  }
  const P = (H - 2) * (W - 2), NP = N * P, K = Cin * 9;
  const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts), off = <usize>(n0 * P) << 2;
  im2col_3x3_images(col, x, N, Cin, H, W, n0, n1);
  if (n1 > n0) gemm(yc + off, w, col + off, Cout, (n1 - n0) * P, K, K, NP, NP, 0);
}

/**
 * From the channel-major output gradient dyc: dW += dYc·colᵀ; dx = col2im(Wᵀ·dYc)
 * unless dx is 0. part, parts: the weight gradient (a sum over every image) by
 * blocks of 16 filters or weight columns; the input gradient by images.
 */
function conv_product_backward(dx: usize, dw: usize, dyc: usize, w: usize, col: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, part: i32, parts: i32): void {
  if (winograd_applies(Cin, H, W)) {
    winograd_product_backward(dx, dw, dyc, 0, 0, col, N, Cin, H, W, Cout, 3, false, part, parts);
    return;
  }
  const P = (H - 2) * (W - 2), NP = N * P, K = Cin * 9;
  if (few_inputs(K)) {
    const dwt = small_block(col, K, NP);
    const j0 = part_from(Cout, 16, part, parts), j1 = part_to(Cout, 16, part, parts);
    if (j1 > j0) {
      gemm(dwt + (<usize>j0 << 2), col, dyc + (<usize>(j0 * NP) << 2), K, j1 - j0, NP, NP, NP, Cout, GEMM_TRANS_B);
      add_transposed(dw, dwt, K, Cout, j0, j1);
    }
  } else {
    const j0 = part_from(K, 16, part, parts), j1 = part_to(K, 16, part, parts);
    if (j1 > j0) gemm(dw + (<usize>j0 << 2), dyc, col + (<usize>(j0 * NP) << 2), Cout, j1 - j0, NP, NP, NP, K, GEMM_TRANS_B | GEMM_ACCUMULATE);
  }
  if (dx != 0) {
    barrier(parts); // every thread has read the columns: they may now hold Wᵀ·dYc
    const n0 = part_from(N, 1, part, parts), n1 = part_to(N, 1, part, parts), off = <usize>(n0 * P) << 2;
    if (n1 > n0) gemm(col + off, w, dyc + off, K, (n1 - n0) * P, Cout, K, NP, NP, GEMM_TRANS_A);
    col2im_3x3_images(dx, col, N, Cin, H, W, n0, n1);
  }
}

/** y[n, c, :] = yc[c, n·P : (n+1)·P]·scale + shift for every n. */
// @ts-ignore: decorator
@inline
export function channel_to_nchw(y: usize, yc: usize, c: i32, N: i32, C: i32, P: i32, scale: f32, shift: f32): void {
  channel_to_nchw_images(y, yc, c, N, C, P, scale, shift, 0, N);
}

/** channel_to_nchw for images n0 … n1 − 1 only (a thread's share). */
// @ts-ignore: decorator
@inline
export function channel_to_nchw_images(y: usize, yc: usize, c: i32, N: i32, C: i32, P: i32, scale: f32, shift: f32, n0: i32, n1: i32): void {
  for (let n = n0; n < n1; n++) {
    const s = yc + (<usize>((c * N + n) * P) << 2);
    const d = y + (<usize>((n * C + c) * P) << 2);
    let p = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = f32x4.splat(scale), bv = f32x4.splat(shift);
      for (; p + 4 <= P; p += 4) v128.store(d + (<usize>p << 2), f32x4.add(f32x4.mul(v128.load(s + (<usize>p << 2)), sv), bv));
    }
    for (; p < P; p++) store<f32>(d + (<usize>p << 2), load<f32>(s + (<usize>p << 2)) * scale + shift);
  }
}

/** d = a·u + b·v + k over n floats. */
// @ts-ignore: decorator
@inline
function affine2_run(d: usize, u: usize, v: usize, n: i32, a: f32, b: f32, k: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a), bv = f32x4.splat(b), kv = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(d + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(u + o), av), f32x4.mul(v128.load(v + o), bv)), kv));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(d + o, (load<f32>(u + o) * a + load<f32>(v + o) * b) + k);
  }
}

// @ts-ignore: decorator
@inline
export function fill_run(dst: usize, v: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vv);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline
export function copy_run(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline
export function add_run(dst: usize, src: usize, n: i32): void {
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
  im2col_3x3_images(col, x, N, C, H, W, 0, N);
}

/** im2col_3x3's columns of images n0 … n1 − 1 only (a thread's share). */
function im2col_3x3_images(col: usize, x: usize, N: i32, C: i32, H: i32, W: i32, n0: i32, n1: i32): void {
  const OH = H - 2, OW = W - 2, P = OH * OW, NP = N * P;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        let d = col + (<usize>(((c * 3 + kh) * 3 + kw) * NP + n0 * P) << 2);
        for (let n = n0; n < n1; n++) {
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
  col2im_3x3_images(dx, col, N, C, H, W, 0, N);
}

/** col2im_3x3 for images n0 … n1 − 1 only (a thread's share). */
function col2im_3x3_images(dx: usize, col: usize, N: i32, C: i32, H: i32, W: i32, n0: i32, n1: i32): void {
  const OH = H - 2, OW = W - 2, P = OH * OW, NP = N * P;
  memory.fill(dx + (<usize>(n0 * C * H * W) << 2), 0, <usize>((n1 - n0) * C * H * W) << 2);
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        let s = col + (<usize>(((c * 3 + kh) * 3 + kw) * NP + n0 * P) << 2);
        for (let n = n0; n < n1; n++) {
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
