import { execFileSync } from 'node:child_process';
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

  it('reads the class count of a dataset below DATA_ROOT and refuses anything outside it', async () => {
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

    writeFileSync(join(root, 'huge-nc.yaml'), 'nc: 100000000\n');
    execFileSync('mkfifo', [join(root, 'fifo.yaml')]);
    mkdirSync(join(root, 'dir.yaml'));

    expect((await resolveDataset('a/data.yaml', root)).numClasses).toBe(3);
    expect((await resolveDataset(join(root, 'nc.yaml'), root)).numClasses).toBe(7);
    await expect(resolveDataset('bad.yaml', root)).rejects.toThrow(/dataset: .*no class count/);
    await expect(resolveDataset('huge-nc.yaml', root)).rejects.toThrow(/dataset: .*nc 100000000/);
    // Missing and outside the root read alike, and neither shows the root's absolute path.
    const missing = await resolveDataset('missing.yaml', root).catch((e: Error) => e.message);
    const outsideMsg = await resolveDataset(join(outside, 'data.yaml'), root).catch((e: Error) => e.message);
    const shadow = await resolveDataset('/etc/shadow', root).catch((e: Error) => e.message);
    // One message for a missing file and one outside DATA_ROOT (no oracle), with the way out.
    const hint =
      ': datasets are read only below DATA_ROOT (default: the working directory); set DATA_ROOT to a ' +
      'folder above the dataset';
    expect(missing).toBe(`dataset: no data.yaml 'missing.yaml' below DATA_ROOT${hint}`);
    expect(outsideMsg).toBe(`dataset: no data.yaml '${join(outside, 'data.yaml')}' below DATA_ROOT${hint}`);
    expect(shadow).toBe(`dataset: no data.yaml '/etc/shadow' below DATA_ROOT${hint}`);
    expect([missing, shadow].join()).not.toContain(root);
    await expect(resolveDataset('../x/data.yaml', root)).rejects.toThrow(/dataset:/);
    await expect(resolveDataset('link.yaml', root)).rejects.toThrow(
      /no data.yaml 'link.yaml' below DATA_ROOT/,
    );
    // A FIFO (nobody writing) or a directory is refused at once, not read.
    await expect(resolveDataset('fifo.yaml', root)).rejects.toThrow(/not a regular file/);
    await expect(resolveDataset('dir.yaml', root)).rejects.toThrow(/not a regular file/);
  });
});
