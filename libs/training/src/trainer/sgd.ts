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
      const g = grads[p.name];
      if (!g) continue;
      const lr = p.group === 'bias' ? s.biasLr : s.weightLr;
      const wd = p.group === 'decay' ? s.weightDecay : 0;
      tf.tidy(() => {
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
 */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(
    private readonly params: readonly Param[],
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {}

  step(grads: Record<string, tf.Tensor>, s: SgdStep): void {
    this.t++;
    const beta1 = s.momentum;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const p of this.params) {
      const g = grads[p.name];
      if (!g) continue;
      const lr = p.group === 'bias' ? s.biasLr : s.weightLr;
      const wd = p.group === 'decay' ? s.weightDecay : 0;
      tf.tidy(() => {
        let m = this.m.get(p.name);
        let v = this.v.get(p.name);
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(g), false, `${p.name}.exp_avg`);
          v = tf.variable(tf.zerosLike(g), false, `${p.name}.exp_avg_sq`);
          this.m.set(p.name, m);
          this.v.set(p.name, v);
        }
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const decayed = wd ? tf.mul(p.variable, 1 - lr * wd) : p.variable;
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        p.variable.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
