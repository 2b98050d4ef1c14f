import { describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
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
