// A small seeded PRNG (mulberry32), the same in every runtime: rounds must give
// the same numbers in Node, Deno and any worker.

export class Rng {
  private s: number;

  /** seed: any integer; stream separates independent uses of one seed (data, init, shuffling). */
  constructor(seed: number, stream = 0) {
    // splitmix-style mixing so that nearby seeds give unrelated sequences
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((stream | 0) + 0x632be5ab, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
    h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
    this.s = (h ^ (h >>> 15)) >>> 0;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles a[0..n) in place (Fisher–Yates). */
  shuffle(a: { [i: number]: number; length: number }, n = a.length): void {
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
