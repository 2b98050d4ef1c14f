import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { DomainError } from '@detsearch/common';
import { buildIR, fusedOps, parseGenome, SEPARABLE_ROWS, type Genome } from '@detsearch/genome';
import { getHardwareProfile, loadHardwareProfiles } from './files';
import { OP_CLASSES } from './profile';
import {
  int8FloatLayers,
  latencyFeatures,
  opRooflines,
  predictFromFeatures,
  predictLatency,
  tiledConvFlops,
  type LatencyFeatures,
} from './predict';

const profiles = loadHardwareProfiles();
const host = getHardwareProfile('host', { fittedDir: null });
const small = { depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 128 };

describe('predictLatency', () => {
  it('sums per-op times and overheads, from a genome or its IR alike', () => {
    const ir = buildIR(parseGenome(small));
    const p = predictLatency(ir, host, { perOp: true });
    expect(predictLatency(small, host).predictedMs).toBeCloseTo(p.predictedMs, 12);
    const perOpSum = p.perOp!.reduce((s, o) => s + o.ms, 0);
    expect(p.predictedMs).toBeCloseTo(perOpSum + host.overheadUs.perInferenceUs / 1e3, 9);
    expect(p.profile).toBe('host');
    expect(['compute', 'memory', 'mixed']).toContain(p.bound);
    // SiLU is not fused into the conv on the host runtime: one QuickGelu node per conv in fp32,
    // QLinearSigmoid + QLinearMul in int8.
    const convs = p.perOp!.filter((o) => o.kind === 'conv').length;
    expect(p.perOp!.filter((o) => o.kind === 'activation')).toHaveLength(convs);
    const int8 = predictLatency({ ...small, quantization: { precision: 'int8' } }, host, {
      perOp: true,
    }).perOp!;
    const int8Convs = int8.filter((o) => o.kind === 'conv' && o.layer !== 0).length;
    expect(int8.filter((o) => o.kind === 'activation' && o.layer !== 0)).toHaveLength(2 * int8Convs);
    const relu = predictLatency({ ...small, activation: 'relu' }, host, { perOp: true }).perOp!;
    expect(relu.filter((o) => o.kind === 'activation')).toHaveLength(0);
  });

  it('treats depthwise convs as memory-bound and big dense convs as compute-bound', () => {
    // A DRAM-bound device (the host profile's L3 model makes small models' data cache-resident).
    const pi = getHardwareProfile('raspberry-pi-4', { fittedDir: null });
    const ir = buildIR(parseGenome({ ...small, widthMultiple: 0.5, separable: [2, 3, 4] }));
    const ops = opRooflines(ir, pi, 'fp32');
    const dw = ops.filter((o) => o.opClass === 'depthwise');
    expect(dw.length).toBeGreaterThan(0);
    for (const o of dw) expect(o.bound).toBe('memory');
    for (const o of ops.filter((x) => x.kind === 'concat' || x.kind === 'resize'))
      expect(o.bound).toBe('memory');
    const biggest = ops.filter((o) => o.opClass === 'conv').sort((a, b) => b.flops - a.flops)[0]!;
    expect(biggest.bound).toBe('compute');
  });

  it('pads dense convs to whole output-channel tiles where the runtime tiles them', () => {
    const v100 = getHardwareProfile('nvidia-v100', { fittedDir: null });
    expect(v100.channelTile).toBe(32);
    const untiled = { ...v100, channelTile: undefined };
    const ir = buildIR(parseGenome({ ...small, separable: [2] }));
    const fused = fusedOps(ir);
    const tiled = opRooflines(ir, v100, 'fp16');
    const plain = opRooflines(ir, untiled, 'fp16');
    for (const [i, o] of tiled.entries()) {
      const r = fused.find((f) => f.name === o.name);
      const expected =
        r && (r.kind === 'conv' || r.kind === 'detect') && !r.depthwise
          ? (r.flops * (Math.ceil(r.outChannels / 32) * 32)) / r.outChannels
          : plain[i]!.flops;
      expect(o.flops).toBeCloseTo(expected, 6);
      expect(o.flops).toBeGreaterThanOrEqual(plain[i]!.flops);
    }
    // width 0.25: the 16-channel convs pay for 32, so the narrow net costs about 10% over its FLOPs.
    const sumFlops = (ops: typeof tiled) => ops.reduce((s, o) => s + o.flops, 0);
    expect(sumFlops(tiled)).toBeGreaterThan(1.05 * sumFlops(plain));
    expect(
      tiledConvFlops(
        fused.find((f) => f.depthwise)!,
        32,
      ),
    ).toBe(fused.find((f) => f.depthwise)!.flops);
    expect(predictLatency(ir, v100).predictedMs).toBeGreaterThan(predictLatency(ir, untiled).predictedMs);
  });

  it('keeps the int8 stem and Detect rows in fp32 where the device runs fp32', () => {
    const ir = buildIR(parseGenome({ ...small, quantization: { precision: 'int8' } }));
    const ops = opRooflines(ir, host, 'int8');
    const stem = ops.find((o) => o.layer === 0 && o.kind === 'conv')!;
    const other = ops.find((o) => o.layer === 1 && o.kind === 'conv')!;
    expect(stem.computeMs).toBeCloseTo((stem.flops / (host.peakGops.fp32! * 1e9)) * 1e3, 12);
    expect(other.computeMs).toBeCloseTo((other.flops / (host.peakGops.int8! * 1e9)) * 1e3, 12);
    const all = opRooflines(ir, host, 'int8', []);
    expect(all.find((o) => o.layer === 0 && o.kind === 'conv')!.computeMs).toBeLessThan(stem.computeMs);
  });

  it('rejects a precision the profile does not run', () => {
    const tpu = getHardwareProfile('coral-edge-tpu', { fittedDir: null });
    expect(() => predictLatency(small, tpu)).toThrow(DomainError);
    expect(() => predictLatency(small, tpu)).toThrow(/does not run fp32; supported: int8/);
    expect(
      predictLatency({ ...small, quantization: { precision: 'int8' } }, tpu).predictedMs,
    ).toBeGreaterThan(0);
    expect(() => predictLatency({ ...small, imageSize: 100 }, host)).toThrow(/imageSize/);
  });
});

describe('predictor monotonicity: more FLOPs or bytes never predicts faster', () => {
  const rng = seedrandom('monotone');
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]!;
  const genomes: Genome[] = Array.from({ length: 6 }, () =>
    parseGenome({
      depthMultiple: pick([0.33, 0.5]),
      widthMultiple: pick([0.125, 0.25, 0.375]),
      imageSize: pick([96, 128, 160]),
      separable: SEPARABLE_ROWS.filter(() => rng() < 0.3),
      activation: pick(['silu', 'relu']),
    }),
  );

  it('grows with width, depth and image size on every profile', () => {
    for (const profile of profiles) {
      const precision = profile.precisions.includes('fp32') ? 'fp32' : 'int8';
      for (const g of genomes) {
        const t = (x: Genome) => predictLatency(x, profile, { precision }).predictedMs;
        const t0 = t(g);
        expect(t({ ...g, widthMultiple: g.widthMultiple + 0.125 })).toBeGreaterThanOrEqual(t0);
        expect(t({ ...g, depthMultiple: g.depthMultiple + 0.33 })).toBeGreaterThanOrEqual(t0);
        expect(t({ ...g, imageSize: g.imageSize + 32 })).toBeGreaterThanOrEqual(t0);
      }
    }
  });

  it('grows with any class roofline or op count, for any efficiencies', () => {
    for (let trial = 0; trial < 200; trial++) {
      const f: LatencyFeatures = {
        precision: 'fp32',
        rooflineMs: Object.fromEntries(
          OP_CLASSES.map((c) => [c, rng() * 5]),
        ) as LatencyFeatures['rooflineMs'],
        ops: Math.floor(rng() * 300),
      };
      const eff = Object.fromEntries(
        OP_CLASSES.map((c) => [c, 0.01 + rng() * 0.99]),
      ) as typeof host.efficiency;
      const ovh = { perOpUs: rng() * 50, perInferenceUs: rng() * 500 };
      const c = pick(OP_CLASSES);
      const more = {
        ...f,
        rooflineMs: { ...f.rooflineMs, [c]: f.rooflineMs[c] + rng() },
        ops: f.ops + (rng() < 0.5 ? 1 : 0),
      };
      expect(predictFromFeatures(more, eff, ovh)).toBeGreaterThanOrEqual(predictFromFeatures(f, eff, ovh));
    }
  });

  it('never predicts a model faster when one op gets more FLOPs or bytes', () => {
    const ir = buildIR(genomes[0]!);
    const ops = opRooflines(ir, host, 'fp32');
    const base = predictFromFeatures(latencyFeatures(ops, 'fp32'), host.efficiency, host.overheadUs);
    for (let i = 0; i < ops.length; i += 7) {
      const peak = host.peakGops.fp32! * 1e9;
      const bw = host.memoryBandwidthGBs * 1e9;
      for (const grow of [
        { flops: ops[i]!.flops * 2 + 1e6, bytes: ops[i]!.bytes },
        { flops: ops[i]!.flops, bytes: ops[i]!.bytes * 2 + 1e5 },
        { flops: ops[i]!.flops * 2 + 1e6, bytes: ops[i]!.bytes * 2 + 1e5 },
      ]) {
        const changed = ops.map((o, j) =>
          j === i
            ? { ...o, ...grow, computeMs: (grow.flops / peak) * 1e3, memoryMs: (grow.bytes / bw) * 1e3 }
            : o,
        );
        const t = predictFromFeatures(latencyFeatures(changed, 'fp32'), host.efficiency, host.overheadUs);
        // Growing only the roof an op is not bound by may leave it unchanged; growing both never does.
        if (grow.flops > ops[i]!.flops && grow.bytes > ops[i]!.bytes) expect(t).toBeGreaterThan(base);
        else expect(t).toBeGreaterThanOrEqual(base);
      }
    }
  });
});

describe('int8 mixed precision', () => {
  const profile = getHardwareProfile('x86-server');
  const base = { depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 320 };
  const int8 = (extra: object = {}) =>
    predictLatency({ ...base, quantization: { precision: 'int8', ...extra } }, profile).predictedMs;

  it('charges fp32 rows and their quantize/dequantize boundaries', () => {
    const plain = int8();
    const mixed = int8({ floatLayers: [9] });
    expect(mixed).toBeGreaterThan(plain);
    const fp32 = predictLatency({ ...base, quantization: { precision: 'fp32' } }, profile).predictedMs;
    expect(int8({ floatLayers: [2, 4, 6, 8, 9] })).toBeLessThan(fp32 * 1.2);
  });

  it('bounds automatic mixed precision by the heaviest rows and uses the rows an export reports', () => {
    const ir = buildIR(parseGenome({ ...base, quantization: { precision: 'int8', autoFloatLayers: 2 } }));
    const rows = int8FloatLayers(ir, profile);
    expect(rows).toHaveLength(4);
    expect(rows).toEqual(expect.arrayContaining([0, 24]));
    const auto = predictLatency(ir, profile).predictedMs;
    const reported = predictLatency(ir, profile, { floatLayers: [0, 1, 2, 24] }).predictedMs;
    expect(auto).toBeGreaterThanOrEqual(reported);
  });
});
