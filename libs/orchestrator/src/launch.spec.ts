import { describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import { getPreset } from '@detsearch/latency';
import { resolveLaunch, type LaunchDeps } from './launch';

const deps: LaunchDeps = {
  assertEvaluator: (name) => {
    if (name !== 'surrogate')
      throw new DomainError('EVALUATOR.UNKNOWN', `evaluator: unknown '${name}'`, 'evaluator');
  },
};
const base = {
  strategy: 'random',
  objectives: ['map50_95', 'latency'],
  evaluator: 'surrogate',
  budget: { trials: 5 },
};

async function rejection(body: unknown): Promise<DomainError> {
  try {
    await resolveLaunch(body, deps);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected a rejection');
}

describe('resolveLaunch', () => {
  it('fills defaults: fidelity, profile, seed, name', async () => {
    const s = await resolveLaunch(base, deps);
    expect(s).toMatchObject({
      strategy: 'random',
      objectives: ['map50_95', 'latency'],
      hardwareProfile: 'host',
      evaluator: 'surrogate',
      budget: { trials: 5 },
      fidelity: { epochs: 9, minEpochs: 1, eta: 3 },
      preset: null,
    });
    expect(Number.isInteger(s.seed)).toBe(true);
    expect(s.name).toMatch(/^random-/);
    expect(s.hardwareProfileSpec).toMatchObject({ name: 'host' });
    expect(s.searchSpace).toMatchObject({ name: 'yolov5' });
  });

  it('takes strategy, budget, objectives, profile, latency budget and fidelity from a preset', async () => {
    const preset = getPreset('quick-demo');
    const s = await resolveLaunch({ preset: 'quick-demo', evaluator: 'surrogate', seed: 4 }, deps);
    expect(s).toMatchObject({
      preset: 'quick-demo',
      strategy: preset.strategy,
      budget: preset.budget,
      objectives: preset.objectives,
      hardwareProfile: preset.hardwareProfile,
      constraints: { maxLatencyMs: preset.latencyBudgetMs },
      fidelity: { ...preset.fidelity, eta: 3 },
      seed: 4,
    });
    expect(s.searchSpace).toMatchObject({ name: 'quick-demo', depthMultiple: 0.33 });
    // The body wins over the preset.
    const o = await resolveLaunch(
      {
        preset: 'quick-demo',
        evaluator: 'surrogate',
        strategy: 'nsga2',
        budget: { trials: 3 },
        constraints: { maxLatencyMs: 7 },
      },
      deps,
    );
    expect(o).toMatchObject({ strategy: 'nsga2', budget: { trials: 3 }, constraints: { maxLatencyMs: 7 } });
  });

  it('applies a request search-space override on top', async () => {
    const s = await resolveLaunch({ ...base, searchSpace: { widthMultiple: 0.25, imageSize: 320 } }, deps);
    expect(s.searchSpace).toMatchObject({ widthMultiple: 0.25, imageSize: 320 });
  });

  it('rejects bad input with a DomainError naming the field', async () => {
    expect((await rejection({ ...base, strategy: 'annealing' })).field).toBe('strategy');
    expect((await rejection({ ...base, preset: 'no-such-preset' })).field).toBe('preset');
    expect((await rejection({ ...base, hardwareProfile: 'toaster' })).field).toBe('hardwareProfile');
    expect((await rejection({ ...base, evaluator: 'magic' })).field).toBe('evaluator');
    expect((await rejection({ ...base, budget: { trials: 0 } })).field).toBe('budget.trials');
    expect((await rejection({ ...base, budget: { trials: 'ten' } })).field).toBe('budget.trials');
    expect((await rejection({ ...base, budget: undefined })).field).toBe('budget');
    expect((await rejection({ evaluator: 'surrogate', budget: { trials: 1 } })).field).toBe('strategy');
    expect((await rejection({ ...base, objectives: ['latency'] })).field).toBe('objectives');
    expect((await rejection({ ...base, objectives: ['speed'] })).field).toMatch(/^objectives/);
    expect((await rejection({ ...base, colour: 'red' })).message).toMatch(/colour/);
    expect((await rejection({ ...base, searchSpace: { imageSize: 333 } })).field).toMatch(/imageSize/);
    expect((await rejection({ ...base, fidelity: { epochs: 3, minEpochs: 5 } })).field).toBe(
      'fidelity.minEpochs',
    );
    expect((await rejection([])).field).toBe('body');
    // fp16 in the space, but the profile cannot run it.
    const e = await rejection({ ...base, hardwareProfile: 'raspberry-pi-4' });
    expect(e.field).toBe('searchSpace.quantization');
    expect(e.message).toMatch(/fp16/);
  });

  it('says what is wrong: required, the type, the unknown key by name', async () => {
    const msg = async (body: unknown) => (await rejection(body)).message;
    expect(await msg({ ...base, budget: {} })).toBe('budget.trials: required');
    expect(await msg({ ...base, budget: { trials: '10' } })).toBe('budget.trials: must be an integer');
    expect(await msg({ ...base, budget: { trials: 2.5 } })).toBe('budget.trials: must be an integer');
    expect(await msg({ ...base, seed: '1' })).toBe('seed: must be an integer');
    const strict = { ...deps, objectivesRequired: true };
    await expect(resolveLaunch({ ...base, objectives: undefined }, strict)).rejects.toThrow(
      /^objectives: required/,
    );
    // Library callers without the flag get the default pair.
    expect((await resolveLaunch({ ...base, objectives: undefined }, deps)).objectives).toEqual([
      'map50_95',
      'latency',
    ]);
    expect(await msg(JSON.parse('{"__proto__": {"x": 1}, "strategy": "random"}'))).toBe(
      '__proto__: unknown field',
    );
    expect(await msg({ ...base, constructor: 1 })).toBe('constructor: unknown field');
    expect(await msg({ ...base, budget: { trials: 5, extra: 1 } })).toBe('budget.extra: unknown field');
    expect(await msg({ ...base, name: 'a\u0000b' })).toMatch(/^name: must not contain NUL/);
    expect(await msg({ ...base, name: 'a\ud800b' })).toMatch(/^name: .*unpaired surrogates/);
    expect(await msg({ ...base, name: 'x'.repeat(201) })).toMatch(/^name: must be at most 200/);
  });

  it('caps budget.trials at the deployment limit', async () => {
    const capped = { ...deps, maxTrials: 50 };
    await expect(resolveLaunch({ ...base, budget: { trials: 50 } }, capped)).resolves.toBeTruthy();
    await expect(resolveLaunch({ ...base, budget: { trials: 51 } }, capped)).rejects.toThrow(
      /^budget.trials: must not be greater than 50/,
    );
  });

  it('validates the resolved search space completely, naming the field', async () => {
    const field = async (searchSpace: unknown) => (await rejection({ ...base, searchSpace })).field;
    for (const imageSize of [0, -32, 32_000_000, 99_968])
      expect(await field({ imageSize })).toBe('searchSpace.imageSize');
    expect(await field({ imageSize: { type: 'int', low: 160, high: 640, step: 0 } })).toBe(
      'searchSpace.imageSize.step',
    );
    expect(await field({ imageSize: { type: 'int', low: 160, high: 640, step: -32 } })).toBe(
      'searchSpace.imageSize.step',
    );
    expect(await field({ imageSize: { type: 'ordinal', values: [320, 99_968] } })).toBe(
      'searchSpace.imageSize.values[1]',
    );
    expect(await field({ separable: [1, 1] })).toBe('searchSpace.separable');
    expect(await field({ description: 'd'.repeat(1001) })).toBe('searchSpace.description');
  });

  it('takes image-size rungs in the fidelity section and names the field when they cannot work', async () => {
    const ok = await resolveLaunch(
      { ...base, fidelity: { epochs: 9, minEpochs: 1, imageSizes: [160, 224] } },
      deps,
    );
    expect(ok.fidelity).toMatchObject({ epochs: 9, minEpochs: 1, eta: 3, imageSizes: [160, 224] });
    const field = async (fidelity: unknown, d: LaunchDeps = deps) => {
      try {
        await resolveLaunch({ ...base, fidelity }, d);
      } catch (err) {
        return { field: (err as DomainError).field, message: (err as DomainError).message };
      }
      throw new Error('expected a rejection');
    };
    expect(await field({ epochs: 9, minEpochs: 1, imageSizes: [224, 160] })).toMatchObject({
      field: 'fidelity.imageSizes',
      message: expect.stringMatching(/increasing/),
    });
    expect(await field({ epochs: 9, minEpochs: 1, imageSizes: [100] })).toMatchObject({
      field: 'fidelity.imageSizes[0]',
    });
    // Three sizes for two rungs (epochs 1 and 3), and sizes without rungs.
    expect(await field({ epochs: 9, minEpochs: 1, imageSizes: [128, 160, 224] })).toMatchObject({
      field: 'fidelity.imageSizes',
      message: expect.stringMatching(/3 sizes for 2 ASHA rung/),
    });
    expect(await field({ epochs: 9, imageSizes: [160] })).toMatchObject({ field: 'fidelity.imageSizes' });
    expect(await field({ epochs: 9, minEpochs: 1, imageSize: 256, imageSizes: [160, 256] })).toMatchObject({
      field: 'fidelity.imageSizes',
    });
    // An evaluator that trains at one size refuses them.
    expect(
      await field(
        { epochs: 9, minEpochs: 1, imageSizes: [160] },
        { ...deps, imageSizeFidelity: () => false },
      ),
    ).toMatchObject({ field: 'fidelity.imageSizes', message: expect.stringMatching(/one image size/) });
  });
});
