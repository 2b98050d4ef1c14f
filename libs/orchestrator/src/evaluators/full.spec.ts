import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNTH_CLASSES } from '../../../training/src/dataset/synth';
import { resolveDataset } from '../launch';
import { SYNTHETIC_NUM_CLASSES } from './full';

describe('the full evaluator and its datasets', () => {
  it('sizes models for the synthetic dataset it generates', () => {
    expect(SYNTHETIC_NUM_CLASSES).toBe(SYNTH_CLASSES.length);
  });

  it('reads the class count of a dataset below DATA_ROOT and refuses anything outside it', () => {
    const root = mkdtempSync(join(tmpdir(), 'ds-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'ds-out-'));
    mkdirSync(join(root, 'a'));
    writeFileSync(
      join(root, 'a', 'data.yaml'),
      'train: images/train\nval: images/val\nnames: [cat, dog, bird]\n',
    );
    writeFileSync(join(root, 'nc.yaml'), 'train: x\nval: y\nnc: 7\n');
    writeFileSync(join(root, 'bad.yaml'), 'train: x\n');
    writeFileSync(join(outside, 'data.yaml'), 'nc: 2\n');
    symlinkSync(join(outside, 'data.yaml'), join(root, 'link.yaml'));

    expect(resolveDataset('a/data.yaml', root).numClasses).toBe(3);
    expect(resolveDataset(join(root, 'nc.yaml'), root).numClasses).toBe(7);
    expect(() => resolveDataset('bad.yaml', root)).toThrow(/dataset: .*no class count/);
    expect(() => resolveDataset('missing.yaml', root)).toThrow(/dataset: no such file/);
    expect(() => resolveDataset(join(outside, 'data.yaml'), root)).toThrow(/outside DATA_ROOT/);
    expect(() => resolveDataset('../x/data.yaml', root)).toThrow(/dataset:/);
    expect(() => resolveDataset('link.yaml', root)).toThrow(/outside DATA_ROOT/);
  });
});
