import * as tf from '@tensorflow/tfjs-core';

/**
 * Ultralytics' parameter groups (smart_optimizer): conv weights decay; BatchNorm weights do not;
 * biases (BN beta, conv and Detect biases) do not and get their own warm-up lr.
 */
export type ParamGroup = 'decay' | 'noDecay' | 'bias';

export interface Param {
  name: string;
  variable: tf.Variable;
  group: ParamGroup;
}

/** A model variable's canonical (state_dict) name: its name without the model's scope prefix. */
export function canonicalName(variable: tf.Variable): string {
  return variable.name.slice(variable.name.indexOf('/') + 1);
}

/** A model's trainable variables as optimizer parameters: canonical name and group. */
export function trainableParams(variables: readonly tf.Variable[]): Param[] {
  return variables.map((variable) => {
    const name = canonicalName(variable);
    return { name, variable, group: paramGroup(name, variable.shape) };
  });
}

/** Group of a canonical (PyTorch state_dict) parameter name with its shape. */
export function paramGroup(name: string, shape: readonly number[]): ParamGroup {
  if (name.endsWith('.bias')) return 'bias';
  return shape.length === 4 ? 'decay' : 'noDecay';
}

export interface SgdStep {
  weightLr: number;
  biasLr: number;
  momentum: number;
  weightDecay: number;
  /** Factor on every gradient (gradient-norm clipping), default 1. */
  gradScale?: number;
}

/**
 * torch.optim.SGD with nesterov momentum and per-group lr, the momentum buffer started at the first
 * gradient (dampening 0): d = g + wd*p; buf = m*buf + d; p -= lr * (d + m*buf).
 */
export class NesterovSgd {
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(private readonly params: readonly Param[]) {}

  step(grads: Record<string, tf.Tensor>, s: SgdStep): void {
    for (const p of this.params) {
      const raw = grads[p.name];
      if (!raw) continue;
      const lr = p.group === 'bias' ? s.biasLr : s.weightLr;
      const wd = p.group === 'decay' ? s.weightDecay : 0;
      tf.tidy(() => {
        const g = s.gradScale !== undefined && s.gradScale !== 1 ? tf.mul(raw, s.gradScale) : raw;
        const d = wd ? tf.add(g, tf.mul(p.variable, wd)) : g;
        let buf = this.buffers.get(p.name);
        if (!buf) {
          buf = tf.variable(d, false, `${p.name}.momentum_buffer`);
          this.buffers.set(p.name, buf);
        } else {
          buf.assign(tf.add(tf.mul(buf, s.momentum), d));
        }
        p.variable.assign(tf.sub(p.variable, tf.mul(tf.add(d, tf.mul(buf, s.momentum)), lr)));
      });
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

/**
 * torch.optim.AdamW as Ultralytics builds it for `--optimizer AdamW` (betas (momentum, 0.999),
 * decoupled weight decay on the decay group only). Scale-invariant, so the loss * batch-size
 * convention does not change its steps; a sensible lr0 is 1e-3.
 *
 * The update runs in JS on Float32Arrays read from the backend (one read of each gradient and
 * weight, one write of each weight): on wasm that is about 3x cheaper than the ~12 small tensor ops
 * per parameter of the tensor formulation, which matters at small batches (a step per 4-8 images).
 */
export class AdamW {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private t = 0;

  constructor(
    private readonly params: readonly Param[],
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {}

  step(grads: Record<string, tf.Tensor>, s: SgdStep): void {
    this.t++;
    const beta1 = s.momentum;
    const beta2 = this.beta2;
    const eps = this.eps;
    const c1 = 1 - beta1 ** this.t;
    const sqrtC2 = Math.sqrt(1 - beta2 ** this.t);
    const gs = s.gradScale ?? 1;
    for (const p of this.params) {
      const gt = grads[p.name];
      if (!gt) continue;
      const g = gt.dataSync() as Float32Array;
      const w = p.variable.dataSync() as Float32Array;
      const lr = p.group === 'bias' ? s.biasLr : s.weightLr;
      const keep = 1 - lr * (p.group === 'decay' ? s.weightDecay : 0);
      let m = this.m.get(p.name);
      let v = this.v.get(p.name);
      if (!m || !v) {
        m = new Float32Array(g.length);
        v = new Float32Array(g.length);
        this.m.set(p.name, m);
        this.v.set(p.name, v);
      }
      // p = p * (1 - lr * wd) - lr * (m / c1) / (sqrt(v / c2) + eps)
      const stepSize = lr / c1;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i]! * gs;
        const mi = beta1 * m[i]! + (1 - beta1) * gi;
        const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! * keep - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
      }
      const next = tf.tensor(w, p.variable.shape, 'float32');
      p.variable.assign(next);
      next.dispose();
    }
  }

  dispose(): void {
    this.m.clear();
    this.v.clear();
  }
}
