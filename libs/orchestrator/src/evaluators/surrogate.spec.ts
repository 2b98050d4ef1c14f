import { describe, expect, it } from 'vitest';
import { buildIR, modelCost, parseGenome, standardGenome } from '@detsearch/genome';
import { getHardwareProfile, predictLatency } from '@detsearch/latency';
import { SURROGATE_NOTE, SurrogateEvaluator, surrogateEstimate } from './surrogate';

const params = (g: ReturnType<typeof parseGenome>) => modelCost(buildIR(g)).params;

describe('surrogate mAP model', () => {
  it('reproduces the published yolov5 n/s/m/l/x COCO mAP@0.5:0.95 within 0.01', () => {
    const published = { n: 0.28, s: 0.374, m: 0.454, l: 0.49, x: 0.507 };
    for (const [name, map] of Object.entries(published)) {
      const g = standardGenome(`yolov5${name}`);
      expect(surrogateEstimate(g, params(g)).map50_95).toBeCloseTo(map, 1);
      expect(Math.abs(surrogateEstimate(g, params(g)).map50_95 - map)).toBeLessThan(0.01);
    }
  });

  it('penalizes smaller inputs, separable layers, relu and int8, each a little', () => {
    const base = parseGenome({ depthMultiple: 0.33, widthMultiple: 0.5, imageSize: 640 });
    const m = (g: ReturnType<typeof parseGenome>) => surrogateEstimate(g, params(base)).map50_95;
    const ref = m(base);
    expect(m({ ...base, imageSize: 320 })).toBeLessThan(ref);
    expect(m({ ...base, separable: [1, 3, 5] })).toBeLessThan(ref);
    expect(m({ ...base, activation: 'relu' })).toBeLessThan(ref);
    const int8 = parseGenome({ ...base, quantization: { precision: 'int8' } });
    expect(m(int8)).toBeLessThan(ref);
    expect(m(int8)).toBeGreaterThan(ref * 0.95);
    expect(surrogateEstimate(int8, params(base)).fp32Map50_95).toBeCloseTo(ref, 10);
  });
});

describe('SurrogateEvaluator', () => {
  const genome = parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 320 });
  const req = {
    trialId: 't',
    searchId: 's',
    genome,
    fidelity: { epochs: 5 },
    hardwareProfile: 'raspberry-pi-4',
    seed: 3,
  };

  it('is labelled, reports every epoch, and uses the real roofline latency', async () => {
    const seen: number[] = [];
    const ev = new SurrogateEvaluator({ msPerTrial: 0 });
    const m = await ev.evaluate(req, {
      signal: new AbortController().signal,
      onEpoch: (e) => (seen.push(e.epoch), 'continue'),
    });
    expect(ev.name).toBe('surrogate');
    expect(m.backend).toBe('surrogate');
    expect(m.notes).toBe(SURROGATE_NOTE);
    expect(m.notes).toMatch(/SURROGATE/);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(m.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    // Learning curve rises with epochs.
    expect(m.epochs[4]!.map50_95!).toBeGreaterThan(m.epochs[0]!.map50_95!);
    expect(m.latencyMs).toBeCloseTo(
      predictLatency(genome, getHardwareProfile('raspberry-pi-4')).predictedMs,
      9,
    );
    expect(m.params).toBe(params(genome));
    expect(m.sizeBytes).toBe(modelCost(buildIR(genome)).weightBytes.fp32);
    // Deterministic per (seed, genome).
    const again = await ev.evaluate(req, { signal: new AbortController().signal, onEpoch: () => 'continue' });
    expect(again.map50_95).toBe(m.map50_95);
  });

  it('stops when told and when aborted, keeping the epochs it did', async () => {
    const ev = new SurrogateEvaluator({ msPerTrial: 0 });
    const stopped = await ev.evaluate(req, {
      signal: new AbortController().signal,
      onEpoch: (e) => (e.epoch === 2 ? 'stop' : 'continue'),
    });
    expect(stopped.epochs).toHaveLength(2);
    expect(stopped.map50_95).toBe(stopped.epochs[1]!.map50_95);

    const slow = new SurrogateEvaluator({ msPerTrial: 5000 });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    const aborted = await slow.evaluate(req, { signal: ac.signal, onEpoch: () => 'continue' });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(aborted.epochs.length).toBeLessThan(5);
  });

  it('trains low rungs at smaller images: lower mAP there, the full-size curve once promoted', async () => {
    const ev = new SurrogateEvaluator({ msPerTrial: 0 });
    expect(ev.imageSizeFidelity).toBe(true);
    const ctx = { signal: new AbortController().signal, onEpoch: () => 'continue' as const };
    const full = await ev.evaluate(req, ctx);
    const sizes = [160, 224, 224, 320, 320];
    const rungs = await ev.evaluate({ ...req, fidelity: { epochs: 5, imageSizeByEpoch: sizes } }, ctx);
    for (let e = 0; e < 3; e++) expect(rungs.epochs[e]!.map50_95!).toBeLessThan(full.epochs[e]!.map50_95!);
    for (let e = 3; e < 5; e++) expect(rungs.epochs[e]!.map50_95!).toBeCloseTo(full.epochs[e]!.map50_95!, 12);
    expect(rungs.map50_95).toBeCloseTo(full.map50_95, 12);
  });
});
