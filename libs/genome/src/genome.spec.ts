import { describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import { buildIR } from './build-ir';
import { genomeKey, parseGenome } from './genome';

const base = { depthMultiple: 0.33, widthMultiple: 0.25 };

function rejection(input: unknown): DomainError {
  try {
    parseGenome(input);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected the genome to be rejected');
}

describe('parseGenome', () => {
  it('fills the documented defaults', () => {
    expect(parseGenome(base)).toEqual({
      ...base,
      numClasses: 80,
      imageSize: 640,
      separable: [],
      activation: 'silu',
      quantization: { precision: 'fp32' },
    });
  });

  it('fills int8 defaults: static, per-channel, minmax', () => {
    expect(parseGenome({ ...base, quantization: { precision: 'int8' } }).quantization).toEqual({
      precision: 'int8',
      scheme: 'static',
      granularity: 'per-channel',
      calibration: 'minmax',
    });
    expect(
      parseGenome({ ...base, quantization: { precision: 'int8', scheme: 'dynamic' } }).quantization,
    ).toEqual({
      precision: 'int8',
      scheme: 'dynamic',
      granularity: 'per-channel',
    });
  });

  it('sorts separable indices so equal genomes have equal keys', () => {
    const a = parseGenome({ ...base, separable: [18, 1, 4] });
    const b = parseGenome({ ...base, separable: [4, 18, 1] });
    expect(a.separable).toEqual([1, 4, 18]);
    expect(genomeKey(a)).toBe(genomeKey(b));
  });

  it.each([
    [{ ...base, bogus: 1 }, 'genome', /unknown key.*'bogus'/],
    [{ widthMultiple: 0.25 }, 'depthMultiple', /Required/],
    [{ ...base, depthMultiple: 'x' }, 'depthMultiple', /number/],
    [{ ...base, widthMultiple: 0 }, 'widthMultiple', /greater than or equal/],
    [{ ...base, imageSize: 650 }, 'imageSize', /multiple of 32/],
    [{ ...base, imageSize: 641.5 }, 'imageSize', /integer/],
    [{ ...base, numClasses: 0 }, 'numClasses', /greater than or equal to 1/],
    [{ ...base, separable: [0] }, 'separable[0]', /allowed: 1, 2, 3/],
    [{ ...base, separable: [1, 24] }, 'separable[1]', /not a layer/],
    [{ ...base, separable: [1, 1] }, 'separable', /duplicate/],
    [{ ...base, activation: 'gelu' }, 'activation', /silu/],
    [{ ...base, quantization: { precision: 'int4' } }, 'quantization.precision', /fp32/],
    [
      { ...base, quantization: { precision: 'fp16', scheme: 'static' } },
      'quantization.scheme',
      /only applies to int8/,
    ],
    [
      { ...base, quantization: { precision: 'int8', granularity: 'per-row' } },
      'quantization.granularity',
      /per-tensor/,
    ],
  ])('rejects %j naming the field', (input, field, message) => {
    const e = rejection(input);
    expect(e.code).toBe('GENOME.INVALID');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(field)).toBe(true);
  });

  it('rejects non-objects', () => {
    expect(rejection(null).field).toBe('genome');
    expect(rejection([1]).field).toBe('genome');
  });
});

describe('per-stage depth and width', () => {
  const base = { depthMultiple: 0.33, widthMultiple: 0.5 };

  it('scales only the rows of the stage, on top of the global multiples', () => {
    const plain = buildIR(parseGenome(base));
    const stageWidth = [1, 2, 1, 1, 1, 1, 1, 1];
    const stageDepth = [1, 1, 1, 1, 1, 1, 0.5, 1];
    const ir = buildIR(parseGenome({ ...base, stageWidth, stageDepth }));
    const out = (x: typeof ir, row: number) => x.rows[row]!.outChannels;
    // stage 1 = rows 3 (Conv) and 4 (C3): twice the channels; every other row as before
    expect(out(ir, 3)).toBe(2 * out(plain, 3));
    expect(out(ir, 4)).toBe(2 * out(plain, 4));
    for (const row of [0, 1, 2, 5, 6, 9, 10, 13, 17, 23]) expect(out(ir, row)).toBe(out(plain, row));
    // stage 6 = neck rows 18 and 20: C3 20 has round(3 * 0.33 * 0.5) -> at least 1 bottleneck
    expect(ir.rows[20]!.repeats).toBe(1);
    expect(ir.rows[13]!.repeats).toBe(plain.rows[13]!.repeats);
    // the next row's input follows the stage's output
    expect(ir.rows[5]!.inChannels).toBe(out(ir, 4));
  });

  it('treats all-ones as the plain genome and keys per-stage genomes apart', () => {
    const ones = parseGenome({ ...base, stageDepth: Array(8).fill(1), stageWidth: Array(8).fill(1) });
    expect(ones).toEqual(parseGenome(base));
    expect(genomeKey(ones)).toBe(genomeKey(parseGenome(base)));
    const pruned = parseGenome({ ...base, stageWidth: [1, 1, 1, 0.5, 1, 1, 1, 1] });
    expect(genomeKey(pruned)).not.toBe(genomeKey(parseGenome(base)));
  });

  it('names the field of a bad multiplier list', () => {
    expect(() => parseGenome({ ...base, stageWidth: [1, 1] })).toThrow(
      /stageWidth: .*one multiplier per stage/,
    );
    expect(() => parseGenome({ ...base, stageDepth: [1, 1, 1, 1, 1, 1, 1, 9] })).toThrow(/stageDepth\[7\]/);
  });
});
