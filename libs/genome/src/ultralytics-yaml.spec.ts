import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildIR } from './build-ir';
import { describeGenome } from './describe';
import { parseGenome, type Genome } from './genome';
import { parameterSpecs } from './weights';
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
    if (module === 'Conv' || module === 'ConvDW') {
      c2 = div8(args[0] as number);
      const k = args[1] as number;
      total += module === 'ConvDW' ? conv(c1, c1, k, c1) + conv(c1, c2, 1) : conv(c1, c2, k);
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

/**
 * The state_dict names of the model Ultralytics builds from the yaml (with the ConvDW and C3DW
 * definitions its header gives), without BatchNorm's num_batches_tracked and Detect's anchors
 * buffer, which carry no trained values.
 */
function ultralyticsStateDictNames(text: string): string[] {
  const doc = parse(text) as { depth_multiple: number; backbone: unknown[][]; head: unknown[][] };
  const gd = doc.depth_multiple;
  const conv = (p: string) => [
    `${p}.conv.weight`,
    ...['weight', 'bias', 'running_mean', 'running_var'].map((b) => `${p}.bn.${b}`),
  ];
  const convDW = (p: string) => [...conv(`${p}.dw`), ...conv(`${p}.pw`)];
  const names: string[] = [];
  [...doc.backbone, ...doc.head].forEach(([from, n0, module], i) => {
    const p = `model.${i}`;
    const n = (n0 as number) > 1 ? Math.max(pythonRound((n0 as number) * gd), 1) : (n0 as number);
    if (module === 'Conv') names.push(...conv(p));
    else if (module === 'ConvDW') names.push(...convDW(p));
    else if (module === 'C3' || module === 'C3DW') {
      names.push(...conv(`${p}.cv1`), ...conv(`${p}.cv2`), ...conv(`${p}.cv3`));
      for (let b = 0; b < n; b++)
        names.push(...conv(`${p}.m.${b}.cv1`), ...(module === 'C3' ? conv : convDW)(`${p}.m.${b}.cv2`));
    } else if (module === 'SPPF') names.push(...conv(`${p}.cv1`), ...conv(`${p}.cv2`));
    else if (module === 'Detect')
      (from as number[]).forEach((_, l) => names.push(`${p}.m.${l}.weight`, `${p}.m.${l}.bias`));
  });
  return names.sort();
}

const irWeightNames = (genome: Genome) =>
  parameterSpecs(buildIR(genome))
    .map((s) => s.name)
    .sort();

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
    // off the 1/8 grid: a separable head C3's hidden width no width-scaled plain row expresses
    [{ depthMultiple: 0.33, widthMultiple: 0.33, separable: [13, 17] }],
    [{ depthMultiple: 0.5, widthMultiple: 0.3, separable: [1, 2, 8, 20, 23] }],
    // per-stage depth and width on top of the global multiples
    [
      {
        depthMultiple: 0.33,
        widthMultiple: 0.25,
        stageDepth: [1, 2, 0.5, 1, 1, 1.5, 0.34, 1],
        stageWidth: [1.5, 1, 0.5, 0.75, 1, 1.25, 1, 0.5],
      },
    ],
    [
      {
        depthMultiple: 0.67,
        widthMultiple: 0.33,
        separable: [3, 13, 17, 21],
        stageDepth: [0.25, 1, 1, 2, 0.5, 1, 1, 1],
        stageWidth: [1, 0.6, 1.3, 1, 0.9, 1, 0.7, 2],
      },
    ],
  ])('describes the same architecture, with the same weight names, as the IR for %j', (g) => {
    const genome = parseGenome(g);
    const text = toUltralyticsYaml(genome);
    expect(ultralyticsParams(text)).toBe(describeGenome(genome).params);
    expect(ultralyticsStateDictNames(text)).toEqual(irWeightNames(genome));
  });

  it('builds 3,327,377 params for width 0.33 with separable head rows 13 and 17, like the IR', () => {
    const genome = parseGenome({ depthMultiple: 0.33, widthMultiple: 0.33, separable: [13, 17] });
    expect(describeGenome(genome).params).toBe(3_327_377);
    expect(ultralyticsParams(toUltralyticsYaml(genome))).toBe(3_327_377);
  });

  it('names separable layers as the state_dict Ultralytics builds from the yaml', () => {
    const genome = parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, separable: [1, 13] });
    const names = irWeightNames(genome);
    const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var'].map((b) => `${p}.bn.${b}`);
    const conv = (p: string) => [`${p}.conv.weight`, ...bn(p)];
    // row 1, a stride-2 Conv made separable: ConvDW (dw, pw)
    expect(names.filter((n) => n.startsWith('model.1.'))).toEqual(
      [...conv('model.1.dw'), ...conv('model.1.pw')].sort(),
    );
    // row 13, a head C3 without shortcut made separable: C3DW, its Bottleneck's cv2 a ConvDW
    expect(names.filter((n) => n.startsWith('model.13.'))).toEqual(
      [
        ...conv('model.13.cv1'),
        ...conv('model.13.cv2'),
        ...conv('model.13.cv3'),
        ...conv('model.13.m.0.cv1'),
        ...conv('model.13.m.0.cv2.dw'),
        ...conv('model.13.m.0.cv2.pw'),
      ].sort(),
    );
    const doc = parse(toUltralyticsYaml(genome));
    expect(doc.backbone[1]).toEqual([-1, 1, 'ConvDW', [128, 3, 2]]);
    expect(doc.head[3]).toEqual([-1, 3, 'C3DW', [512, false]]);
  });

  it('writes stock yolov5 rows when nothing is separable', () => {
    const text = toUltralyticsYaml(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.5 }));
    const doc = parse(text);
    expect(doc.backbone).toHaveLength(10);
    expect(doc.head).toHaveLength(15);
    expect(doc.head[14]).toEqual([[17, 20, 23], 1, 'Detect', ['nc', 'anchors']]);
    expect(text).not.toContain('C3DW');
    expect(text).not.toContain('ConvDW');
  });

  it('explains the C3DW module when it needs it', () => {
    const text = toUltralyticsYaml(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.5, separable: [2] }));
    expect(text).toContain('class C3DW(C3)');
    expect(parse(text).backbone[2]).toEqual([-1, 3, 'C3DW', [128]]);
  });
});
