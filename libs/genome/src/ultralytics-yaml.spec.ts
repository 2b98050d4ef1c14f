import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeGenome } from './describe';
import { parseGenome } from './genome';
import { toUltralyticsYaml } from './ultralytics-yaml';
import { pythonRound } from './yolov5-table';

/**
 * A minimal re-implementation of Ultralytics' parse_model parameter counting over a model yaml,
 * so the exported yaml is checked against the IR: the same architecture must have the same params.
 */
function ultralyticsParams(text: string): number {
  const doc = parse(text) as {
    nc: number;
    depth_multiple: number;
    width_multiple: number;
    backbone: [number | number[], number, string, unknown[]][];
    head: [number | number[], number, string, unknown[]][];
  };
  const gd = doc.depth_multiple;
  const gw = doc.width_multiple;
  const div8 = (c: number) => Math.ceil((c * gw) / 8) * 8;
  const conv = (c1: number, c2: number, k: number, g = 1) => (c1 / g) * c2 * k * k + 2 * c2;
  const ch: number[] = [];
  let total = 0;
  for (const [from, n0, module, args] of [...doc.backbone, ...doc.head]) {
    const f = (x: number) => (x === -1 ? (ch.length ? ch[ch.length - 1]! : 3) : ch[x]!);
    const c1 = Array.isArray(from) ? 0 : f(from);
    const n = n0 > 1 ? Math.max(pythonRound(n0 * gd), 1) : n0;
    let c2 = c1;
    if (module === 'Conv' || module === 'DWConv') {
      c2 = div8(args[0] as number);
      const k = args[1] as number;
      total += module === 'DWConv' ? conv(c1, c2, k, gcd(c1, c2)) : conv(c1, c2, k);
    } else if (module === 'C3' || module === 'C3DW') {
      c2 = div8(args[0] as number);
      const h = Math.floor(c2 * 0.5);
      total += conv(c1, h, 1) * 2 + conv(2 * h, c2, 1);
      const bottleneck =
        module === 'C3' ? conv(h, h, 1) + conv(h, h, 3) : conv(h, h, 1) + conv(h, h, 3, h) + conv(h, h, 1);
      total += n * bottleneck;
    } else if (module === 'SPPF') {
      c2 = div8(args[0] as number);
      const h = Math.floor(c1 / 2);
      total += conv(c1, h, 1) + conv(4 * h, c2, 1);
    } else if (module === 'Concat') c2 = (from as number[]).reduce((s, x) => s + f(x), 0);
    else if (module === 'Detect') {
      const no = 3 * (doc.nc + 5);
      total += (from as number[]).reduce((s, x) => s + f(x) * no + no, 0);
    }
    ch.push(c2);
  }
  return total;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

describe('Ultralytics model yaml export', () => {
  it.each([
    [{ depthMultiple: 0.33, widthMultiple: 0.25 }],
    [{ depthMultiple: 0.67, widthMultiple: 0.75, numClasses: 3 }],
    [{ depthMultiple: 0.33, widthMultiple: 0.5, separable: [1, 3, 5, 7, 18, 21] }],
    [{ depthMultiple: 0.33, widthMultiple: 0.25, separable: [2, 4, 13, 17, 20, 23] }],
    [
      {
        depthMultiple: 1.0,
        widthMultiple: 0.375,
        separable: [1, 2, 3, 4, 5, 6, 7, 8, 13, 17, 18, 20, 21, 23],
      },
    ],
  ])('describes the same architecture as the IR for %j', (g) => {
    const genome = parseGenome(g);
    const text = toUltralyticsYaml(genome);
    expect(ultralyticsParams(text)).toBe(describeGenome(genome).params);
  });

  it('writes stock yolov5 rows when nothing is separable', () => {
    const text = toUltralyticsYaml(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.5 }));
    const doc = parse(text);
    expect(doc.backbone).toHaveLength(10);
    expect(doc.head).toHaveLength(15);
    expect(doc.head[14]).toEqual([[17, 20, 23], 1, 'Detect', ['nc', 'anchors']]);
    expect(text).not.toContain('C3DW');
  });

  it('explains the C3DW module when it needs it', () => {
    const text = toUltralyticsYaml(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.5, separable: [2] }));
    expect(text).toContain('class C3DW(C3)');
    expect(parse(text).backbone[2]).toEqual([-1, 3, 'C3DW', [128]]);
  });
});

describe('int8 deployment note', () => {
  it('states the calibration and the rows kept in fp32', () => {
    const yaml = toUltralyticsYaml(
      parseGenome({
        depthMultiple: 0.33,
        widthMultiple: 0.25,
        quantization: { precision: 'int8', calibration: 'entropy', floatLayers: [9], autoFloatLayers: 2 },
      }),
    );
    expect(yaml).toContain('# int8: entropy calibration on training images; rows kept in fp32: 0, 9, 24');
    expect(yaml).toContain('the 2 most quantization-sensitive');
  });
});
