// Optimisers, PyTorch's single-tensor formulas, over one contiguous block of
// parameters, gradients and state.
//
// Adam (torch.optim.Adam / AdamW):
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= (lr / bc1) · m / (√v / √bc2 + eps),  bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ
// The caller computes the bias corrections for step t in float64. Weight decay
// wd is either L2 (Adam: g += wd·p first) or decoupled (AdamW: p ·= 1 − lr·wd
// first); with wd = 0 neither pass runs.

/** p, m, v: [n] updated in place; g: [n] (changed in place by L2 weight decay). */
export function adam_step(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32, wd: f32, decoupled: bool,
): void {
  if (wd != 0) {
    if (decoupled) scale_run(p, 1 - lr * wd, n);
    else axpy_run(g, p, wd, n);
  }
  const stepSize: f32 = lr / bc1;
  const bc2sqrt: f32 = Mathf.sqrt(bc2);
  const b1c: f32 = 1 - beta1, b2c: f32 = 1 - beta2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(beta1), vb1c = f32x4.splat(b1c), vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(b2c);
    const vs = f32x4.splat(stepSize), vq = f32x4.splat(bc2sqrt), ve = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vb1c));
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), vb2c));
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vq), ve);
      v128.store(m + o, mv);
      v128.store(v + o, vv);
      v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(vs, f32x4.div(mv, denom))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const mv = load<f32>(m + o) * beta1 + gv * b1c;
    const vv = load<f32>(v + o) * beta2 + (gv * gv) * b2c;
    const denom = Mathf.sqrt(vv) / bc2sqrt + eps;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    store<f32>(p + o, load<f32>(p + o) - stepSize * (mv / denom));
  }
}

/**
 * SGD with momentum (torch.optim.SGD, dampening 0): d = g + wd·p;
 * buf = momentum·buf + d (buf starts at zero, so the first step sets it to d);
 * p −= lr·(nesterov ? d + momentum·buf : buf). momentum 0: p −= lr·d (buf unused).
 */
export function sgd_step(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, wd: f32, nesterov: bool): void {
  if (wd != 0) axpy_run(g, p, wd, n);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let d = load<f32>(g + o);
    if (momentum != 0) {
      const b = load<f32>(buf + o) * momentum + d;
      store<f32>(buf + o, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, load<f32>(p + o) - lr * d);
  }
}

/** y += a·x over n floats. */
function axpy_run(y: usize, x: usize, a: f32, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** y ·= a over n floats. */
function scale_run(y: usize, a: f32, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) * a);
  }
}
