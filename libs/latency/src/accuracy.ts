/** Kendall's tau-b between two paired samples (ties in either counted as neither concordant nor discordant). */
export function kendallTau(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`kendallTau: lengths differ (${a.length} vs ${b.length})`);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? 0 : (concordant - discordant) / denom;
}

/** Fraction of predictions within +-tolerance (relative) of the measurement. */
export function fractionWithin(predicted: number[], measured: number[], tolerance: number): number {
  if (predicted.length !== measured.length) throw new Error('fractionWithin: lengths differ');
  if (predicted.length === 0) return 0;
  const ok = predicted.filter((p, i) => Math.abs(p / measured[i]! - 1) <= tolerance).length;
  return ok / predicted.length;
}

/** Mean absolute percentage error, as a fraction. */
export function meanAbsoluteRelativeError(predicted: number[], measured: number[]): number {
  if (predicted.length === 0) return 0;
  return predicted.reduce((s, p, i) => s + Math.abs(p / measured[i]! - 1), 0) / predicted.length;
}
