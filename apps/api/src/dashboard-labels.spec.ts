import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { genomeLabel, parseGenome, precisionLabel, type Genome, type Quantization } from '@detsearch/genome';

/** The dashboard's own module (plain browser JS, served as is). */
interface DashboardFormat {
  genomeLabel(g: Genome): string;
  precisionLabel(q: Quantization): string;
}
const dashboardFormat = join(__dirname, '..', 'public', 'js', 'format.js');

const genomes = [
  parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 128, activation: 'relu' }),
  parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 128,
    quantization: { precision: 'int8', calibration: 'percentile', autoFloatLayers: 4 },
  }),
  parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 128,
    quantization: { precision: 'int8', calibration: 'percentile', autoFloatLayers: 2 },
  }),
  parseGenome({
    depthMultiple: 0.67,
    widthMultiple: 0.5,
    imageSize: 320,
    separable: [4, 6],
    quantization: { precision: 'int8', scheme: 'dynamic', granularity: 'per-tensor' },
  }),
  parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 160,
    quantization: { precision: 'int8', floatLayers: [2, 23] },
  }),
  parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 160,
    quantization: { precision: 'fp16' },
  }),
];

describe('genomeLabel', () => {
  it('tells apart genomes that differ only in calibration or in the rows kept in float', () => {
    const labels = genomes.map(genomeLabel);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels[1]).toBe('d0.33 w0.25 128px silu int8 static per-channel percentile +4 fp32');
    expect(labels[3]).toBe('d0.67 w0.5 320px silu int8 dynamic per-tensor sep[4,6]');
    expect(labels[4]).toContain('fp32[2,23]');
    expect(precisionLabel(genomes[5]!.quantization)).toBe('fp16');
  });

  it('is the text the dashboard renders', async () => {
    const dashboard = (await import(dashboardFormat)) as DashboardFormat;
    for (const g of genomes) {
      expect(dashboard.genomeLabel(g)).toBe(genomeLabel(g));
      expect(dashboard.precisionLabel(g.quantization)).toBe(precisionLabel(g.quantization));
    }
  });
});
