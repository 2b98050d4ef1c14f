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
