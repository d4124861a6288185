// 2×2 max pooling, stride 2, fused with the ReLU before it: relu then pool equals
// pool then relu, and the window's argmax is the same wherever the output is
// positive (elsewhere the gradient is zero anyway). Ties go to the first maximum
// in scan order (top-left, top-right, bottom-left, bottom-right), as in PyTorch.

/**
 * y: [R, H/2, W/2] out; idx: [R, H/2, W/2] i32 out (0..3 within the window);
 * x: [R, H, W] with R = N·C; H and W even.
 */
export function relu_maxpool2x2_forward(y: usize, idx: usize, x: usize, R: i32, H: i32, W: i32): void {
  const OW = W >> 1, rowBytes = <usize>W << 2;
  const rows = R * (H >> 1);
  for (let r = 0; r < rows; r++) {
    const s0 = x + <usize>r * (rowBytes << 1), s1 = s0 + rowBytes;
    const d = y + (<usize>(r * OW) << 2), di = idx + (<usize>(r * OW) << 2);
    let o = 0;
    if (ASC_FEATURE_SIMD) {
      for (; o + 4 <= OW; o += 4) {
        const off = <usize>o << 3;
        const a0 = v128.load(s0 + off), a1 = v128.load(s0 + off, 16);
        const b0 = v128.load(s1 + off), b1 = v128.load(s1 + off, 16);
        const tl = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
        const tr = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const bl = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        const br = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        let m = tl, k = i32x4.splat(0);
        let g = f32x4.gt(tr, m); m = v128.bitselect(tr, m, g); k = v128.bitselect(i32x4.splat(1), k, g);
        g = f32x4.gt(bl, m); m = v128.bitselect(bl, m, g); k = v128.bitselect(i32x4.splat(2), k, g);
        g = f32x4.gt(br, m); m = v128.bitselect(br, m, g); k = v128.bitselect(i32x4.splat(3), k, g);
        v128.store(d + (<usize>o << 2), f32x4.max(m, f32x4.splat(0)));
        v128.store(di + (<usize>o << 2), k);
      }
    }
    for (; o < OW; o++) {
      const off = <usize>o << 3;
      let m = load<f32>(s0 + off), k = 0;
      const tr = load<f32>(s0 + off, 4), bl = load<f32>(s1 + off), br = load<f32>(s1 + off, 4);
      if (tr > m) { m = tr; k = 1; }
      if (bl > m) { m = bl; k = 2; }
      if (br > m) { m = br; k = 3; }
      store<f32>(d + (<usize>o << 2), m > 0 ? m : 0);
      store<i32>(di + (<usize>o << 2), k);
    }
  }
}

/** dx: [R, H, W] overwritten; dy, y, idx: [R, H/2, W/2] from the forward pass. */
export function relu_maxpool2x2_backward(dx: usize, dy: usize, y: usize, idx: usize, R: i32, H: i32, W: i32): void {
  const OW = W >> 1, rowBytes = <usize>W << 2;
  const rows = R * (H >> 1);
  for (let r = 0; r < rows; r++) {
    const d0 = dx + <usize>r * (rowBytes << 1), d1 = d0 + rowBytes;
    const o0 = <usize>(r * OW) << 2;
    let o = 0;
    if (ASC_FEATURE_SIMD) {
      const zero = f32x4.splat(0);
      for (; o + 4 <= OW; o += 4) {
        const so = o0 + (<usize>o << 2);
        const g = v128.and(v128.load(dy + so), f32x4.gt(v128.load(y + so), zero));
        const k = v128.load(idx + so);
        const tl = v128.and(g, i32x4.eq(k, i32x4.splat(0)));
        const tr = v128.and(g, i32x4.eq(k, i32x4.splat(1)));
        const bl = v128.and(g, i32x4.eq(k, i32x4.splat(2)));
        const br = v128.and(g, i32x4.eq(k, i32x4.splat(3)));
        const off = <usize>o << 3;
        v128.store(d0 + off, v128.shuffle<f32>(tl, tr, 0, 4, 1, 5));
        v128.store(d0 + off, v128.shuffle<f32>(tl, tr, 2, 6, 3, 7), 16);
        v128.store(d1 + off, v128.shuffle<f32>(bl, br, 0, 4, 1, 5));
        v128.store(d1 + off, v128.shuffle<f32>(bl, br, 2, 6, 3, 7), 16);
      }
    }
    for (; o < OW; o++) {
      const so = o0 + (<usize>o << 2);
      const g: f32 = load<f32>(y + so) > 0 ? load<f32>(dy + so) : 0;
      const k = load<i32>(idx + so);
      const off = <usize>o << 3;
      store<f32>(d0 + off, k == 0 ? g : 0);
      store<f32>(d0 + off, k == 1 ? g : 0, 4);
      store<f32>(d1 + off, k == 2 ? g : 0);
      store<f32>(d1 + off, k == 3 ? g : 0, 4);
    }
  }
}
