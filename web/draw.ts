// The "try the networks" panel: two drawing pads (or two test digits), each
// trained model's verdict. A drawing becomes a 14×14 digit the way MNIST made
// its own: the stroke's bounding box scaled into 20×20, centred in 28×28, then
// 2×2-averaged as the study's digits are.
import { IMAGE } from '../src/index.js';

const SIDE = 14;

export class Pad {
  private ctx: CanvasRenderingContext2D;
  /** A picked test digit's exact pixels (drawing over it clears them). */
  private picked: Float32Array | null = null;
  private drawing = false;
  private dirty = false;

  constructor(readonly canvas: HTMLCanvasElement, private readonly changed: () => void) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    const at = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height] as const;
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (this.picked) this.clear();
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      const [x, y] = at(e);
      this.ctx.beginPath();
      this.ctx.moveTo(x, y);
      this.ctx.lineTo(x + 0.1, y);
      this.ctx.stroke();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const [x, y] = at(e);
      this.ctx.lineTo(x, y);
      this.ctx.stroke();
      this.dirty = true;
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.dirty = true;
      this.changed();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    this.picked = null;
    this.dirty = false;
  }

  /** Shows a 14×14 digit (values in [0, 1]) and uses its exact pixels. */
  show(pixels: Float32Array): void {
    const img = new ImageData(SIDE, SIDE);
    for (let i = 0; i < IMAGE; i++) {
      const v = Math.round(255 * pixels[i]);
      img.data.set([v, v, v, 255], 4 * i);
    }
    const small = new OffscreenCanvas(SIDE, SIDE);
    small.getContext('2d')!.putImageData(img, 0, 0);
    this.clear();
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.picked = pixels.slice();
  }

  /** The pad's digit as 14×14 values in [0, 1], or null when it is empty. */
  digit(): Float32Array | null {
    if (this.picked) return this.picked;
    if (!this.dirty) return null;
    const { width: w, height: h } = this.canvas;
    const src = this.ctx.getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (src[4 * (y * w + x)] > 32) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    if (x1 < 0) return null;
    // the stroke's box, scaled so its longer side is 20 of 28 pixels, centred
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1, s = 20 / Math.max(bw, bh);
    const big = new OffscreenCanvas(28, 28), g = big.getContext('2d', { willReadFrequently: true })!;
    g.fillStyle = '#000';
    g.fillRect(0, 0, 28, 28);
    g.imageSmoothingQuality = 'high';
    g.drawImage(this.canvas, x0, y0, bw, bh, (28 - bw * s) / 2, (28 - bh * s) / 2, bw * s, bh * s);
    const px = g.getImageData(0, 0, 28, 28).data;
    const out = new Float32Array(IMAGE);
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
      let sum = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) sum += px[4 * ((2 * y + dy) * 28 + 2 * x + dx)];
      out[y * SIDE + x] = sum / (4 * 255);
    }
    return out;
  }
}
