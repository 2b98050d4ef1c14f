import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '@detsearch/common';
import { SUPERNET_RECIPE } from '@detsearch/supernet';
import { SearchOrchestrator } from '../orchestrator';
import { recordTrialThroughput } from '../throughput';
import { datasetFingerprint, spaceFingerprint, syntheticFingerprint } from './fingerprint';

function dataset(root: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  writeFileSync(
    join(root, 'data.yaml'),
    'path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames: [a, b]\n',
  );
  return join(root, 'data.yaml');
}

const files = {
  'images/train/a.jpg': 'xx',
  'images/val/b.jpg': 'yyy',
  'labels/train/a.txt': '0 0.5 0.5 0.2 0.2\n',
  'labels/val/b.txt': '',
};

describe('supernet fingerprints', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'fp-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a dataset: same files give the same fingerprint; a changed, added or renamed file another', () => {
    const a = datasetFingerprint(dataset(fresh(), files));
    expect(datasetFingerprint(dataset(fresh(), files))).toBe(a);
    expect(
      datasetFingerprint(dataset(fresh(), { ...files, 'labels/val/b.txt': '1 0.5 0.5 0.1 0.1\n' })),
    ).not.toBe(a);
    expect(datasetFingerprint(dataset(fresh(), { ...files, 'images/train/c.png': 'z' }))).not.toBe(a);
    const { ['images/val/b.jpg']: b, ...rest } = files;
    expect(datasetFingerprint(dataset(fresh(), { ...rest, 'images/val/B.jpg': b }))).not.toBe(a);
    const other = fresh();
    const yaml = dataset(other, files);
    writeFileSync(yaml, 'path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames: [a, c]\n');
    expect(datasetFingerprint(yaml)).not.toBe(a);
  });

  it('a synthetic dataset by its settings; a space by its canonical content without name or activation', () => {
    expect(syntheticFingerprint({ images: 240, seed: 0, size: 160 })).toBe(
      syntheticFingerprint({ size: 160, seed: 0, images: 240 } as never),
    );
    expect(syntheticFingerprint({ images: 240, seed: 1, size: 160 })).not.toBe(
      syntheticFingerprint({ images: 240, seed: 0, size: 160 }),
    );
    const space = {
      name: 'x',
      widthMultiple: { type: 'ordinal', values: [0.25, 0.5] },
      imageSize: 160,
      activation: 'silu',
    };
    const same = {
      imageSize: 160,
      activation: 'relu',
      widthMultiple: { values: [0.25, 0.5], type: 'ordinal' },
      name: 'y',
    };
    expect(spaceFingerprint(same)).toBe(spaceFingerprint(space));
    expect(spaceFingerprint({ ...space, imageSize: 128 })).not.toBe(spaceFingerprint(space));
    // A supernet trained by an older recipe is another supernet.
    expect(spaceFingerprint(space, 1)).not.toBe(spaceFingerprint(space));
  });
});

describe('supernet reuse and launch checks', () => {
  let o: SearchOrchestrator;
  let home: string;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'sn-home-'));
    // Datasets of these tests live in the home folder.
    o = await SearchOrchestrator.open({ inMemory: true, home, dataRoot: home, resumeOrphans: false });
  });
  afterAll(async () => {
    await o?.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** A ready supernet row for a resolved request, as a finished training run leaves it. */
  async function readySupernet(body: Record<string, unknown>, recipe?: number) {
    const r = await o.supernets.resolveRequest(body);
    const row = await o.supernetRepository.create({
      activation: r.activation,
      datasetFingerprint: r.datasetFingerprint,
      spaceFingerprint:
        recipe === undefined
          ? r.spaceFingerprint
          : spaceFingerprint(r.spec as unknown as Record<string, unknown>, recipe),
      dataset: r.datasetLabel,
      searchSpace: r.spec as unknown as Record<string, unknown>,
      imageSizes: r.imageSizes,
      runnerId: 'trainer',
    });
    const path = join(home, 'supernets', row.id, 'supernet.weights');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'weights');
    return (await o.supernetRepository.finish(row.id, 'trainer', {
      status: 'ready',
      epochs: 3,
      minutes: 1,
      sizeBytes: 7,
      artifactPath: relative(home, path),
    }))!;
  }

  it('reuses a ready supernet only for the same dataset, space and activation', async () => {
    // a preset whose space offers several activations (one supernet each)
    const preset = 'raspberry-pi-4-realtime';
    const sn = await readySupernet({ preset, activation: 'silu' });
    expect(sn.activation).toBe('silu');
    const same = await o.supernets.resolveRequest({ preset, activation: 'silu', minutes: 3 });
    expect((await o.supernets.findReusable(same))?.id).toBe(sn.id);
    // train() hands back the ready one instead of starting a run.
    expect((await o.supernets.train(same)).id).toBe(sn.id);
    const otherSpace = await o.supernets.resolveRequest({
      preset,
      activation: 'silu',
      searchSpace: { imageSize: 128 },
    });
    expect(await o.supernets.findReusable(otherSpace)).toBeNull();
    const otherActivation = await o.supernets.resolveRequest({ preset, activation: 'relu' });
    expect(await o.supernets.findReusable(otherActivation)).toBeNull();
    const otherDataset = {
      ...same,
      datasetFingerprint: syntheticFingerprint({ images: 240, seed: 1, size: 160 }),
    };
    expect(await o.supernets.findReusable(otherDataset)).toBeNull();
    const listed = await o.listSupernets();
    expect(listed.items.find((x) => x.id === sn.id)).toMatchObject({
      status: 'ready',
      epochs: 3,
      sizeBytes: 7,
      artifactPath: `supernets/${sn.id}/supernet.weights`,
    });
  });

  it('a search names its supernet: unknown, or trained on another space or dataset, is refused naming supernetId', async () => {
    const launch = { preset: 'quick-demo', evaluator: 'supernet' };
    const refused = async (body: Record<string, unknown>) => {
      try {
        await o.createSearch(body);
      } catch (err) {
        if (isDomainError(err)) return err;
        throw err;
      }
      throw new Error('expected a refusal');
    };
    const unknown = await refused({ ...launch, supernetId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown).toMatchObject({ code: 'SUPERNET.NOT_FOUND', field: 'supernetId' });
    expect(await refused({ ...launch, supernetId: 'nope' })).toMatchObject({ field: 'supernetId' });

    const otherSpace = await readySupernet({ preset: 'quick-demo', searchSpace: { imageSize: 96 } });
    const e1 = await refused({ ...launch, supernetId: otherSpace.id });
    expect(e1).toMatchObject({ code: 'SEARCH.SUPERNET_MISMATCH', field: 'supernetId' });
    expect(e1.message).toMatch(/another search space/);
    // The same space trained by an older recipe (one weight set shared by every size): named so.
    const older = await readySupernet({ preset: 'quick-demo' }, SUPERNET_RECIPE - 1);
    const e3 = await refused({ ...launch, supernetId: older.id });
    expect(e3).toMatchObject({ code: 'SEARCH.SUPERNET_MISMATCH', field: 'supernetId' });
    expect(e3.message).toMatch(
      new RegExp(`older training recipe \\(version ${SUPERNET_RECIPE - 1}, now ${SUPERNET_RECIPE}\\)`),
    );

    const d = mkdtempSync(join(home, 'data-'));
    const yaml = dataset(d, files);
    const e2 = await refused({
      ...launch,
      dataset: relative(home, yaml),
      supernetId: (await readySupernet({ preset: 'quick-demo' })).id,
    });
    expect(e2).toMatchObject({ code: 'SEARCH.SUPERNET_MISMATCH', field: 'supernetId' });
    expect(e2.message).toMatch(/another dataset/);
    expect(
      await refused({ preset: 'quick-demo', evaluator: 'surrogate', fineTune: { topK: 2 } }),
    ).toMatchObject({
      field: 'fineTune',
    });
    expect(
      await refused({ preset: 'quick-demo', evaluator: 'surrogate', supernetAdaptSteps: 5 }),
    ).toMatchObject({ field: 'supernetAdaptSteps' });
    for (const bad of [-1, 2.5, 1001, '5'])
      expect(await refused({ ...launch, supernetAdaptSteps: bad })).toMatchObject({
        code: 'SEARCH.INVALID',
        field: 'supernetAdaptSteps',
      });
  });

  it('a search with a matching supernet is accepted, records it and its final-stage settings', async () => {
    const sn = await readySupernet({ preset: 'quick-demo', activation: 'relu' });
    const { id } = await o.createSearch({
      preset: 'quick-demo',
      supernetId: sn.id,
      budget: { trials: 1 },
      fineTune: { topK: 2, epochs: 4, seeds: 2 },
      supernetAdaptSteps: 0,
    });
    const search = await o.getSearch(id);
    expect(search.request).toMatchObject({ supernetAdaptSteps: 0 });
    expect(search).toMatchObject({
      evaluator: 'supernet',
      supernetId: sn.id,
      fineTune: { topK: 2, epochs: 4, seeds: 2 },
      searchSpace: { activation: 'relu' },
    });
    await o.cancel(id).catch(() => undefined);
    await o.waitForSearch(id);
  });

  it("estimates a supernet search by its supernet's training (none when a ready one matches), candidates and final stage", async () => {
    recordTrialThroughput(home, 0.26, 14); // a measured rate: no probe
    const sn = await readySupernet({ preset: 'quick-demo' });
    const body = {
      preset: 'quick-demo',
      evaluator: 'supernet',
      budget: { trials: 40 },
      supernetAdaptSteps: 5,
    };
    const ready = await o.estimateSearch({ ...body, supernetId: sn.id });
    expect(ready.basis).toMatch(
      /^a ready supernet \(no training\) \+ 40 candidates .*\(5 adaptation steps each\) \+ 3 fine-tunings/,
    );
    // Another space has no ready supernet: one is trained first, for the asked minutes.
    const fresh = await o.estimateSearch({ ...body, searchSpace: { imageSize: 224 }, supernetMinutes: 7 });
    expect(fresh.basis).toMatch(/^supernet training 7 min \+ 40 candidates/);
    expect(fresh.seconds - ready.seconds).toBeCloseTo(7 * 60, 0);
  });
});

describe('supernet training on a named dataset', () => {
  it('reads it below the DATA_ROOT the request was confined to, one weight set per training size', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sn-root-'));
    const seen: {
      dataset?: { dataYaml: string; dataRoot?: string };
      perSize?: boolean;
      imageSizes?: number[];
    } = {};
    const o = await SearchOrchestrator.open({
      inMemory: true,
      home,
      dataRoot: home,
      resumeOrphans: false,
      supernets: {
        loadLibrary: async () => ({
          trainSupernet: async (opts) => {
            seen.dataset = opts.dataset as typeof seen.dataset;
            seen.perSize = opts.perSize;
            seen.imageSizes = opts.imageSizes;
            throw new Error('stopped after the options were seen');
          },
        }),
      },
    });
    try {
      const yaml = dataset(join(home, 'data'), files);
      const r = await o.supernets.resolveRequest({ preset: 'quick-demo', dataset: yaml });
      const row = await o.supernets.train(r);
      await expect(o.supernets.waitReady(row)).rejects.toThrow(/stopped after the options were seen/);
      expect(seen.dataset).toEqual({ dataYaml: yaml, dataRoot: home });
      // The product trains one weight set per training size (quick-demo: 96, 128 and 160 px).
      expect(seen.perSize).toBe(true);
      expect(seen.imageSizes).toEqual([96, 128, 160]);
    } finally {
      await o.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
