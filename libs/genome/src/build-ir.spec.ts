import { describe, expect, it } from 'vitest';
import { buildIR } from './build-ir';
import { fusedOpBytes, fusedOps, modelCost, opParams } from './cost';
import { describeGenome, standardGenome } from './describe';
import { parseGenome } from './genome';
import { pythonRound, scaleChannels, scaleRepeats, SEPARABLE_ROWS } from './yolov5-table';

describe('parse_model scaling rules', () => {
  it('rounds repeats like Python and keeps single blocks single', () => {
    expect(scaleRepeats(3, 0.33)).toBe(1);
    expect(scaleRepeats(6, 0.33)).toBe(2);
    expect(scaleRepeats(9, 0.33)).toBe(3);
    expect(scaleRepeats(9, 0.67)).toBe(6);
    expect(scaleRepeats(3, 1.33)).toBe(4);
    expect(scaleRepeats(1, 0.1)).toBe(1);
    expect(scaleRepeats(3, 0.1)).toBe(1); // max(round(0.3), 1)
    expect(pythonRound(2.5)).toBe(2); // banker's rounding, as Python's round()
    expect(pythonRound(3.5)).toBe(4);
  });

  it('makes channels divisible by 8, rounding up', () => {
    expect(scaleChannels(64, 0.25)).toBe(16);
    expect(scaleChannels(1024, 0.25)).toBe(256);
    expect(scaleChannels(64, 0.375)).toBe(24);
    expect(scaleChannels(100, 0.33)).toBe(40); // 33 -> 40
    expect(scaleChannels(1024, 1.25)).toBe(1280);
  });
});

describe('standard models match Ultralytics published summaries', () => {
  // Ultralytics model summaries (nc=80, unfused); GFLOPs as 2 x MACs at 640.
  it.each([
    ['yolov5n', 1_872_157, 4.47],
    ['yolov5s', 7_235_389, 16.43],
    ['yolov5m', 21_190_557, 48.87],
    ['yolov5l', 46_563_709, 108.99],
    ['yolov5x', 86_749_405, 205.45],
  ])('%s has %i parameters and %f GFLOPs', (name, params, gflops) => {
    const d = describeGenome(standardGenome(name));
    expect(d.params).toBe(params);
    expect(d.gflops).toBeCloseTo(gflops, 2);
    expect(d.layers).toBe(25);
    expect(d.outputShapes).toEqual([
      [1, 255, 80, 80],
      [1, 255, 40, 40],
      [1, 255, 20, 20],
    ]);
  });

  it('changes only the Detect convs with the class count', () => {
    const n80 = describeGenome(standardGenome('yolov5s', 80)).params;
    const n3 = describeGenome(standardGenome('yolov5s', 3)).params;
    // Detect: 3 convs of (c_in + 1) * 3 * (nc + 5); c_in = 128 + 256 + 512 for yolov5s
    expect(n80 - n3).toBe((128 + 256 + 512 + 3) * 3 * 77);
    expect(describeGenome(standardGenome('yolov5s', 3)).outputShapes[0]).toEqual([1, 24, 80, 80]);
  });

  it('scales FLOPs with the square of the image size and keeps params', () => {
    const a = describeGenome(standardGenome('yolov5n', 80, 640));
    const b = describeGenome(standardGenome('yolov5n', 80, 320));
    expect(b.params).toBe(a.params);
    expect(b.gflops).toBeCloseTo(a.gflops / 4, 6);
    expect(b.outputShapes[2]).toEqual([1, 255, 10, 10]);
  });
});

describe('depthwise-separable substitution', () => {
  const base = { depthMultiple: 0.33, widthMultiple: 0.5, imageSize: 320 };
  const params = (separable: number[]) => describeGenome({ ...base, separable }).params;
  const sepConv = (c1: number, c2: number, k: number) => c1 * k * k + 2 * c1 + c1 * c2 + 2 * c2;
  const conv = (c1: number, c2: number, k: number) => c1 * c2 * k * k + 2 * c2;

  it('replaces a stride-2 Conv by depthwise + pointwise with the formula params', () => {
    // row 3 of yolov5s: Conv(64, 128, 3, 2)
    expect(params([]) - params([3])).toBe(conv(64, 128, 3) - sepConv(64, 128, 3));
    // row 18: Conv(128, 128, 3, 2)
    expect(params([]) - params([18])).toBe(conv(128, 128, 3) - sepConv(128, 128, 3));
  });

  it('replaces the 3x3 conv of every Bottleneck inside a C3', () => {
    // row 4 of yolov5s: C3(128, 128, n=2): hidden 64, two Bottlenecks
    const hidden = 64;
    expect(params([]) - params([4])).toBe(2 * (conv(hidden, hidden, 3) - sepConv(hidden, hidden, 3)));
  });

  it('keeps shapes and stride of the substituted layer', () => {
    const a = buildIR(parseGenome({ ...base }));
    const b = buildIR(parseGenome({ ...base, separable: [...SEPARABLE_ROWS] }));
    for (let i = 0; i < a.rowOutputs.length; i++) {
      expect(b.tensors[b.rowOutputs[i]!]).toEqual(a.tensors[a.rowOutputs[i]!]);
    }
    const dw = b.ops.find((o) => o.name === 'model.1.dw.conv');
    expect(dw).toMatchObject({
      kind: 'conv',
      groups: 32,
      kernel: 3,
      stride: 2,
      inChannels: 32,
      outChannels: 32,
    });
    const pw = b.ops.find((o) => o.name === 'model.1.pw.conv');
    expect(pw).toMatchObject({
      kind: 'conv',
      groups: 1,
      kernel: 1,
      stride: 1,
      inChannels: 32,
      outChannels: 64,
    });
  });
});

describe('IR and cost records', () => {
  const ir = buildIR(
    parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 256, separable: [5, 6] }),
  );

  it('is topologically ordered and every input is defined before use', () => {
    const seen = new Set(['images']);
    for (const op of ir.ops) {
      for (const i of op.inputs) expect(seen.has(i), `${op.name} reads ${i}`).toBe(true);
      seen.add(op.name);
    }
    expect(ir.outputs).toEqual(['model.24.m.0', 'model.24.m.1', 'model.24.m.2']);
  });

  it('uses shortcuts only in backbone C3 blocks', () => {
    const adds = new Set(ir.ops.filter((o) => o.kind === 'add').map((o) => o.layer));
    expect([...adds].sort((a, b) => a - b)).toEqual([2, 4, 6, 8]);
  });

  it('fuses every conv with its BN and activation; totals agree with the raw IR', () => {
    const fused = fusedOps(ir);
    const convs = ir.ops.filter((o) => o.kind === 'conv' || o.kind === 'detect').length;
    expect(fused.filter((r) => r.kind === 'conv' || r.kind === 'detect')).toHaveLength(convs);
    const cost = modelCost(ir);
    expect(fused.reduce((s, r) => s + r.macs, 0)).toBe(cost.macs);
    // folded weights = conv weights + one bias per output channel
    const bn = ir.ops.filter((o) => o.kind === 'batchnorm').reduce((s, o) => s + opParams(o), 0);
    const convBias = fused.filter((r) => r.kind === 'conv').reduce((s, r) => s + r.outChannels, 0);
    expect(fused.reduce((s, r) => s + r.weightElements, 0)).toBe(cost.params - bn + convBias);
    expect(fused.some((r) => r.depthwise && r.layer === 5)).toBe(true);
    expect(fused.every((r) => r.kind !== 'conv' || r.activation === 'silu')).toBe(true);
  });

  it('moves fewer bytes at lower precision', () => {
    for (const r of fusedOps(ir)) {
      const f32 = fusedOpBytes(r, 'fp32');
      const f16 = fusedOpBytes(r, 'fp16');
      const i8 = fusedOpBytes(r, 'int8');
      expect(f16.read).toBeLessThan(f32.read);
      expect(i8.read).toBeLessThanOrEqual(f16.read);
      expect(i8.written * 4).toBe(f32.written);
    }
    const cost = modelCost(ir);
    expect(cost.weightBytes.int8).toBeLessThan(cost.weightBytes.fp16);
    expect(cost.weightBytes.fp16 * 2).toBe(cost.weightBytes.fp32);
  });
});

describe('canonical weights', () => {
  it('has one tensor per parameter and as many trainable elements as params', async () => {
    const { initWeights, parameterSpecs } = await import('./weights');
    const ir = buildIR(
      parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 128, separable: [1, 2] }),
    );
    const specs = parameterSpecs(ir);
    const trainable = specs
      .filter((s) => s.trainable)
      .reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(trainable).toBe(modelCost(ir).params);
    const w = initWeights(ir, { seed: 1 });
    expect(w.size).toBe(specs.length);
    expect(initWeights(ir, { seed: 1 }).get('model.0.conv.weight')).toEqual(w.get('model.0.conv.weight'));
    expect(initWeights(ir, { seed: 2 }).get('model.0.conv.weight')).not.toEqual(w.get('model.0.conv.weight'));
    expect(w.get('model.1.dw.conv.weight')!.length).toBe(16 * 1 * 3 * 3);
  });
});
