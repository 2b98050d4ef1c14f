import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '@detsearch/artifacts';
import type { Supernet } from '@detsearch/persistence';
import { SupernetService } from './supernet-service';

const trainer = mkdtempSync(join(tmpdir(), 'sn-trainer-'));
const other = mkdtempSync(join(tmpdir(), 'sn-other-'));
afterAll(() => {
  for (const d of [trainer, other]) rmSync(d, { recursive: true, force: true });
});

/** The service as a worker on another machine has it: its own home, the shared store. */
const serviceOn = (home: string, store: FsArtifactStore) =>
  new SupernetService({
    db: { kind: 'postgres' } as never,
    supernets: {} as never,
    home,
    runnerId: 'test',
    resolveDataset: async () => ({ path: '', numClasses: 6 }),
    artifacts: store,
  });

const ready = (id: string, key: string): Supernet =>
  ({ id, status: 'ready', artifactPath: `supernets/${id}/supernet.weights`, artifactKey: key }) as Supernet;

describe('supernet weights on a machine that did not train them', () => {
  const store = new FsArtifactStore(join(trainer, 'shared-store'));

  it('are fetched once from the artifact store into the cache, byte for byte', async () => {
    const bytes = randomBytes(300_000);
    const key = 'supernets/11111111-1111-4111-8111-111111111111/supernet.weights';
    await store.put(key, bytes);
    const service = serviceOn(other, store);
    const sn = ready('11111111-1111-4111-8111-111111111111', key);
    const [a, b] = await Promise.all([service.weightsPath(sn), service.weightsPath(sn)]);
    expect(a).toBe(join(other, 'cache', 'supernets', sn.id, 'supernet.weights'));
    expect(b).toBe(a);
    expect(readFileSync(a).equals(bytes)).toBe(true);
  });

  it('refuse bytes that do not match the stored checksum (nothing is cached)', async () => {
    const key = 'supernets/22222222-2222-4222-8222-222222222222/supernet.weights';
    await store.put(key, randomBytes(50_000));
    // Corrupt in place: same file, same size, other bytes.
    writeFileSync(join(trainer, 'shared-store', 'data', ...key.split('/')), randomBytes(50_000), {
      flag: 'r+',
    });
    const service = serviceOn(other, store);
    await expect(service.weightsPath(ready('22222222-2222-4222-8222-222222222222', key))).rejects.toThrow(
      /checksum mismatch/,
    );
    await expect(
      service.weightsPath(
        ready('33333333-3333-4333-8333-333333333333', 'supernets/33333333-3333-4333-8333-333333333333/x'),
      ),
    ).rejects.toMatchObject({ code: 'SUPERNET.NOT_READY' });
  });
});
