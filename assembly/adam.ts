// Adam, PyTorch's single-tensor formula (torch.optim.Adam, no weight decay):
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= (lr / bc1) · m / (√v / √bc2 + eps),  bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ
// The caller computes the bias corrections for step t in float64.

/** p, m, v: [n] updated in place; g: [n]. */
export function adam_step(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32,
): void {
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
