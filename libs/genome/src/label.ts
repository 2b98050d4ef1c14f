import type { Genome, Quantization } from './genome';

/**
 * Precision with every setting that makes two int8 genomes different models: scheme, granularity,
 * a calibration other than min-max, and the rows kept in float.
 */
export function precisionLabel(q: Quantization | undefined): string {
  if (!q || q.precision !== 'int8') return q?.precision ?? 'fp32';
  const parts = ['int8', q.scheme ?? 'static', q.granularity ?? 'per-channel'];
  if (q.calibration && q.calibration !== 'minmax') parts.push(q.calibration);
  if (q.floatLayers?.length) parts.push(`fp32[${q.floatLayers.join(',')}]`);
  if (q.autoFloatLayers) parts.push(`+${q.autoFloatLayers} fp32`);
  return parts.join(' ');
}

/**
 * One line that tells any two genomes of a search apart: depth, width, input size, activation,
 * precision, separable rows and per-stage multipliers. The dashboard's format.js renders the same
 * text (a spec holds them equal).
 */
export function genomeLabel(g: Genome): string {
  const parts = [
    `d${g.depthMultiple}`,
    `w${g.widthMultiple}`,
    `${g.imageSize}px`,
    g.activation,
    precisionLabel(g.quantization),
  ];
  if (g.separable.length) parts.push(`sep[${g.separable.join(',')}]`);
  if (g.stageDepth) parts.push(`stage-d[${g.stageDepth.join(',')}]`);
  if (g.stageWidth) parts.push(`stage-w[${g.stageWidth.join(',')}]`);
  return parts.join(' ');
}
