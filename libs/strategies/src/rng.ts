import seedrandom from 'seedrandom';

/** A seeded uniform generator on [0, 1) with the few derived draws the strategies need. */
export class Rng {
  private readonly next: () => number;
  private spareNormal: number | null = null;

  constructor(seed: string) {
    this.next = seedrandom.alea(seed);
  }

  /**
   * Derives the generator of one ask from the search seed and the history length, so successive
   * asks differ while a rebuilt history reproduces the live run exactly.
   */
  static forAsk(seed: number | string, strategy: string, historyLength: number): Rng {
    return new Rng(`${strategy}|${seed}|${historyLength}`);
  }

  uniform(): number {
    return this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    let u = this.next();
    while (u <= 1e-300) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** k distinct indices from [0, n) (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.slice(0, m);
  }

  /** Uniform weights on the probability simplex. */
  simplex(m: number): number[] {
    const e = Array.from({ length: m }, () => -Math.log(1 - this.next()));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  }
}
