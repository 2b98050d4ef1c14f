import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileSearchSpace } from '@detsearch/search-space';
import { getPreset, loadDefaultSearchSpace, loadPresets } from './files';
import { parsePreset, presetSearchSpace } from './preset';
import { getHardwareProfile } from './files';

const base = loadDefaultSearchSpace();
const good = {
  name: 'demo',
  description: 'a demo',
  hardwareProfile: 'host',
  latencyBudgetMs: 20,
  imageSize: { min: 96, max: 160 },
  objectives: ['map50_95', 'latency'],
  searchSpace: { imageSize: { type: 'ordinal', values: [96, 128, 160] }, widthMultiple: 0.25 },
  strategy: 'random',
  budget: { trials: 4 },
  fidelity: { epochs: 2 },
};

describe('presets', () => {
  it('ships the required presets, each valid against its profile and the default space', () => {
    const presets = loadPresets({ profiles: { fittedDir: null } });
    const names = presets.map((p) => p.name);
    for (const n of [
      'raspberry-pi-4-realtime',
      'jetson-nano-30fps',
      'orin-nano-int8',
      't4-throughput',
      'edge-tpu-int8',
      'x86-server',
      'quick-demo',
    ])
      expect(names).toContain(n);
    for (const p of presets) {
      const space = compileSearchSpace(presetSearchSpace(p, base));
      expect(space.dimensions.length).toBeGreaterThan(0);
    }
    const demo = getPreset('quick-demo', { profiles: { fittedDir: null } });
    expect(demo.hardwareProfile).toBe('host');
    expect(demo.imageSize).toEqual({ min: 96, max: 160 });
  });

  it('rejects bad presets naming the field', () => {
    const host = getHardwareProfile('host', { fittedDir: null });
    const tpu = getHardwareProfile('coral-edge-tpu', { fittedDir: null });
    expect(parsePreset(good, base, 'p.yaml', host).name).toBe('demo');
    expect(() => parsePreset({ ...good, budget: { trials: 0 } }, base, 'p.yaml')).toThrow(
      /^p\.yaml: budget\.trials: /,
    );
    expect(() => parsePreset({ ...good, objectives: ['speed'] }, base, 'p.yaml')).toThrow(/objectives\[0\]/);
    expect(() => parsePreset({ ...good, extra: 1 }, base, 'p.yaml')).toThrow(/unknown key\(s\) 'extra'/);
    expect(() => parsePreset({ ...good, fidelity: { epochs: 2, minEpochs: 3 } }, base, 'p.yaml')).toThrow(
      /fidelity\.minEpochs: minEpochs must not exceed epochs/,
    );
    expect(() => parsePreset({ ...good, searchSpace: { widthMultiple: 9 } }, base, 'p.yaml')).toThrow(
      /p\.yaml: searchSpace: .*widthMultiple/,
    );
    expect(() => parsePreset({ ...good, searchSpace: { imageSize: 320 } }, base, 'p.yaml')).toThrow(
      /searchSpace\.imageSize: sizes 320-320 fall outside imageSize 96-160/,
    );
    expect(() => parsePreset({ ...good, hardwareProfile: 'coral-edge-tpu' }, base, 'p.yaml', tpu)).toThrow(
      /searchSpace\.quantization: 'fp32' is fp32, which profile 'coral-edge-tpu' does not run/,
    );
  });

  it('names the file and the unknown profile or preset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'presets-'));
    writeFileSync(join(dir, 'demo.yaml'), stringify({ ...good, hardwareProfile: 'pdp-11' }));
    expect(() => loadPresets({ dir, base, profiles: { fittedDir: null } })).toThrow(
      /demo\.yaml: hardwareProfile: unknown hardware profile 'pdp-11'; known: /,
    );
    expect(() => getPreset('nope', { dir })).toThrow(/unknown preset 'nope'; known: demo/);
  });
});
