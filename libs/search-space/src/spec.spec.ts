import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import { isInDimension } from './dimensions';
import {
  compileSearchSpace,
  overrideSpec,
  parseSearchSpaceYaml,
  QUANTIZATION_CODES,
  quantizationFromCode,
  quantizationToCode,
  validateSearchSpaceSpec,
} from './spec';

const defaultYaml = readFileSync(join(__dirname, '../../../search-spaces/yolov5.yaml'), 'utf8');

function rejection(text: string): DomainError {
  try {
    parseSearchSpaceYaml(text, 'bad.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected rejection');
}

describe('the default search space file', () => {
  const spec = parseSearchSpaceYaml(defaultYaml, 'yolov5.yaml');
  const space = compileSearchSpace(spec);

  it('has the ranges of the issue', () => {
    const dims = Object.fromEntries(space.dimensions.map((d) => [d.name, d]));
    expect(dims.depthMultiple).toMatchObject({ type: 'ordinal' });
    expect(dims.imageSize).toEqual({ name: 'imageSize', type: 'int', low: 160, high: 640, step: 32 });
    expect(space.dimensions.filter((d) => d.name.startsWith('separable.'))).toHaveLength(14);
    expect(dims.quantization).toMatchObject({ type: 'categorical', choices: [...QUANTIZATION_CODES] });
  });

  it('decodes points to valid genomes and encodes them back', () => {
    const params = {
      depthMultiple: 0.67,
      widthMultiple: 0.375,
      imageSize: 320,
      activation: 'relu',
      quantization: 'int8-static-per-tensor',
      ...Object.fromEntries(
        space.dimensions.filter((d) => d.type === 'boolean').map((d) => [d.name, d.name.endsWith('.18')]),
      ),
    };
    const genome = space.decode(params);
    expect(genome).toMatchObject({
      depthMultiple: 0.67,
      widthMultiple: 0.375,
      imageSize: 320,
      separable: [18],
      numClasses: 80,
    });
    expect(genome.quantization).toEqual({
      precision: 'int8',
      scheme: 'static',
      granularity: 'per-tensor',
      calibration: 'minmax',
    });
    const back = space.encode(genome);
    expect(back).toEqual(params);
    for (const d of space.dimensions) expect(isInDimension(d, back[d.name]!)).toBe(true);
  });

  it('narrows by override, as presets do', () => {
    const narrowed = overrideSpec(spec, {
      quantization: 'int8-static-per-channel',
      imageSize: { type: 'int', low: 160, high: 320, step: 32 },
    });
    const s = compileSearchSpace(narrowed);
    expect(s.dimensions.find((d) => d.name === 'quantization')).toBeUndefined();
    expect(s.dimensions.find((d) => d.name === 'imageSize')).toMatchObject({ high: 320 });
    const point = s.encode(
      space.decode({ ...space.encode(s.decode(s.encode(space.decode(anyPoint(space))))) }),
    );
    expect(s.decode(point).quantization.precision).toBe('int8');
  });
});

function anyPoint(space: ReturnType<typeof compileSearchSpace>) {
  return Object.fromEntries(
    space.dimensions.map((d) => {
      switch (d.type) {
        case 'boolean':
          return [d.name, false];
        case 'ordinal':
          return [d.name, d.values[0]!];
        case 'int':
        case 'float':
          return [d.name, d.low];
        case 'categorical':
          return [d.name, d.choices[d.choices.length - 1]!];
      }
    }),
  );
}

describe('quantization codes', () => {
  it.each(QUANTIZATION_CODES)('%s round-trips', (code) => {
    expect(quantizationToCode(quantizationFromCode(code))).toBe(code);
  });
});

describe('bad search-space files', () => {
  it.each([
    ['depthMultiple: [', 'SEARCH_SPACE.INVALID_YAML', /not valid YAML/],
    ['- a\n- b', 'SEARCH_SPACE.INVALID', /mapping/],
    ['widthMultiple: 0.5\nimageSize: 320', 'SEARCH_SPACE.INVALID', /depthMultiple: Required/],
    [
      'depthMultiple: 0.33\nwidthMultiple: 0.5\nimageSize: 330',
      'SEARCH_SPACE.INVALID',
      /imageSize: must be a multiple of 32/,
    ],
    [
      'depthMultiple: 0.33\nwidthMultiple: 0.5\nimageSize: 320\nsizes: 3',
      'SEARCH_SPACE.INVALID',
      /unknown key.*'sizes'/,
    ],
    [
      'depthMultiple: { type: ordinal, values: [0.5, 0.33] }\nwidthMultiple: 0.5\nimageSize: 320',
      'SEARCH_SPACE.INVALID',
      /strictly increasing/,
    ],
    [
      'depthMultiple: 0.33\nwidthMultiple: 0.5\nimageSize: 320\nseparable: { type: subset, layers: [1, 9] }',
      'SEARCH_SPACE.INVALID',
      /separable.*allowed/,
    ],
    [
      'depthMultiple: 0.33\nwidthMultiple: 0.5\nimageSize: 320\nquantization: int4',
      'SEARCH_SPACE.INVALID',
      /quantization/,
    ],
    [
      'depthMultiple: 0.33\nwidthMultiple: 0.5\nimageSize: 320\nactivation: { type: categorical, choices: [] }',
      'SEARCH_SPACE.INVALID',
      /activation/,
    ],
  ])('%j is rejected clearly', (text, code, message) => {
    const e = rejection(text);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(/^bad\.yaml: /);
    expect(e.message).toMatch(message);
  });

  it('rejects a point missing a dimension', () => {
    const s = compileSearchSpace(parseSearchSpaceYaml(defaultYaml));
    expect(() => s.decode({ depthMultiple: 0.33 })).toThrow(/missing 'widthMultiple'/);
  });
});

describe('per-stage multipliers in a search space', () => {
  const spec = validateSearchSpaceSpec({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 320,
    stageWidth: { type: 'ordinal', values: [0.5, 0.75, 1] },
    stageDepth: [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5],
  });
  const space = compileSearchSpace(spec);

  it('searches each stage’s width on its own dimension and fixes a given list', () => {
    expect(space.dimensions.map((d) => d.name)).toEqual([...Array(8).keys()].map((k) => `stageWidth.${k}`));
    const params = Object.fromEntries(space.dimensions.map((d, k) => [d.name, [0.5, 0.75, 1][k % 3]!]));
    const genome = space.decode(params);
    expect(genome.stageWidth).toEqual([0.5, 0.75, 1, 0.5, 0.75, 1, 0.5, 0.75]);
    expect(genome.stageDepth).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]);
    expect(space.encode(genome)).toEqual(params);
  });

  it('rejects a list with the wrong number of stages, naming the field', () => {
    expect(() => validateSearchSpaceSpec({ ...spec, stageDepth: [1, 1] })).toThrow(/stageDepth/);
  });
});
