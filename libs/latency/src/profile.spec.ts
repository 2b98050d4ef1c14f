import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import {
  defaultHardwareDir,
  getHardwareProfile,
  loadHardwareProfileFile,
  loadHardwareProfiles,
  saveProfile,
} from './files';
import { parseHardwareProfile, type HardwareProfileInput } from './profile';

const base: HardwareProfileInput = {
  name: 'test-cpu',
  description: 'a test device',
  device: 'test SoC',
  kind: 'cpu',
  runtime: { name: 'onnxruntime', executionProvider: 'cpu' },
  cores: 4,
  threads: 4,
  precisions: ['fp32', 'int8'],
  peakGops: { fp32: 50, int8: 100 },
  memoryBandwidthGBs: 5,
  efficiency: { conv: 0.4, depthwise: 0.1, pointwise: 0.3, elementwise: 0.5, pooling: 0.5 },
  overheadUs: { perOpUs: 10, perInferenceUs: 100 },
};

function rejects(doc: unknown, field: string, message: RegExp): void {
  let error: unknown;
  try {
    parseHardwareProfile(doc, 'bad.yaml');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DomainError);
  const e = error as DomainError;
  expect(e.code).toBe('PROFILE.INVALID');
  expect(e.field).toBe(field);
  expect(e.message).toMatch(/^bad\.yaml: /);
  expect(e.message).toMatch(message);
}

describe('hardware profile validation', () => {
  it('accepts a complete profile and fills defaults', () => {
    const p = parseHardwareProfile(base);
    expect(p.byPrecision).toEqual({});
    expect(p.activationPasses).toEqual({});
  });

  it('rejects bad fields, naming file and field', () => {
    rejects({ ...base, peakGops: { fp32: 50 } }, 'peakGops.int8', /required: int8 is listed/);
    rejects({ ...base, efficiency: { ...base.efficiency, conv: 1.5 } }, 'efficiency.conv', /<= 1/);
    rejects({ ...base, efficiency: { ...base.efficiency, depthwise: 0 } }, 'efficiency.depthwise', /> 0/);
    rejects(
      { ...base, byPrecision: { int8: { efficiency: { conv: 1.2 } } } },
      'byPrecision.int8.efficiency.conv',
      /only calibrated profiles/,
    );
    const calibration = { fittedAt: '2026-11-29', method: 'test', samples: {}, rmsLogError: {} };
    expect(
      parseHardwareProfile({ ...base, calibration, efficiency: { ...base.efficiency, conv: 1.5 } }).efficiency
        .conv,
    ).toBe(1.5);
    rejects(
      { ...base, calibration, efficiency: { ...base.efficiency, conv: 20 } },
      'efficiency.conv',
      /<= 16/,
    );
    rejects({ ...base, memoryBandwidthGBs: -1 }, 'memoryBandwidthGBs', /> 0/);
    rejects({ ...base, memoryBandwidthGBs: 'fast' }, 'memoryBandwidthGBs', /must be a number/);
    rejects({ ...base, turbo: true }, 'profile', /unknown key\(s\) 'turbo'/);
    rejects({ ...base, precisions: ['fp32', 'fp32'] }, 'precisions', /duplicates/);
    rejects({ ...base, precisions: ['fp64'] }, 'precisions[0]', /fp32/);
    rejects(
      { ...base, byPrecision: { fp16: { efficiency: { conv: 0.2 } } } },
      'byPrecision.fp16',
      /not in precisions/,
    );
    rejects({ ...base, name: 'Bad Name' }, 'name', /lower-case/);
    rejects(
      { ...base, cache: { bytes: 1 << 20, bandwidthGBs: 1 } },
      'cache.bandwidthGBs',
      /at least memoryBandwidthGBs/,
    );
    rejects(
      { ...base, activationPasses: { silu: { ops: 2 } } },
      'activationPasses.silu.bytesPerElement',
      /Required/,
    );
    expect(
      parseHardwareProfile({
        ...base,
        activationPasses: { silu: 1 },
        byPrecision: { int8: { activationPasses: { relu: { ops: 2, bytesPerElement: 10 } } } },
      }).byPrecision.int8?.activationPasses?.relu,
    ).toEqual({ ops: 2, bytesPerElement: 10 });
    const { overheadUs: _, ...noOverhead } = base;
    rejects(noOverhead, 'overheadUs', /Required/);
    expect(() => parseHardwareProfile([1, 2], 'bad.yaml')).toThrow(/bad\.yaml: must be a mapping/);
  });
});

describe('hardware profile files', () => {
  it('ships every required profile, each valid with a source comment per number', () => {
    const dir = defaultHardwareDir();
    const names = loadHardwareProfiles(dir).map((p) => p.name);
    for (const n of [
      'host',
      'raspberry-pi-4',
      'raspberry-pi-5',
      'jetson-nano',
      'jetson-orin-nano',
      'coral-edge-tpu',
      'nvidia-t4',
      'x86-server',
    ])
      expect(names).toContain(n);
    for (const file of readdirSync(dir)) {
      const lines = readFileSync(join(dir, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (
          !/^\s*((fp32|fp16|int8|memoryBandwidthGBs|cores):\s*[\d.]+|(efficiency|overheadUs):\s*$)/.test(line)
        )
          return;
        const before = lines[i - 1]?.trim() ?? '';
        const after = lines[i + 1]?.trim() ?? '';
        if (!before.startsWith('#') && !after.startsWith('#'))
          throw new Error(`${file}:${i + 1} '${line.trim()}' has no source comment beside it`);
      });
    }
    expect(getHardwareProfile('coral-edge-tpu', { fittedDir: null }).precisions).toEqual(['int8']);
    expect(getHardwareProfile('nvidia-t4', { fittedDir: null }).peakGops).toEqual({
      fp32: 8100,
      fp16: 65000,
      int8: 130000,
    });
  });

  it('rejects bad files with the file path and field, and unknown names with the known ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\n  bad: [indent');
    expect(() => loadHardwareProfileFile(join(dir, 'broken.yaml'))).toThrow(/broken\.yaml: not valid YAML/);
    writeFileSync(join(dir, 'other.yaml'), stringify({ ...base, name: 'test-cpu' }));
    expect(() => loadHardwareProfileFile(join(dir, 'other.yaml'))).toThrow(
      /other\.yaml: name: 'test-cpu' must match the file name 'other'/,
    );
    writeFileSync(join(dir, 'slow.yaml'), stringify({ ...base, name: 'slow', threads: 0 }));
    expect(() => loadHardwareProfileFile(join(dir, 'slow.yaml'))).toThrow(/slow\.yaml: threads: /);
    expect(() => getHardwareProfile('nope', { fittedDir: null })).toThrow(
      /unknown hardware profile 'nope'; known: .*coral-edge-tpu.*host.*raspberry-pi-4/,
    );
  });

  it('prefers a fitted profile under the fitted folder and round-trips saveProfile', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    const fittedDir = join(home, 'profiles');
    mkdirSync(fittedDir);
    const builtIn = getHardwareProfile('host', { fittedDir: null });
    const fitted = { ...builtIn, efficiency: { ...builtIn.efficiency, conv: 0.77 } };
    const path = saveProfile(fitted, join(fittedDir, 'host.yaml'));
    expect(getHardwareProfile('host', { fittedDir }).efficiency.conv).toBe(0.77);
    expect(loadHardwareProfileFile(path)).toEqual(fitted);
    expect(getHardwareProfile('nvidia-t4', { fittedDir }).name).toBe('nvidia-t4');
  });
});
