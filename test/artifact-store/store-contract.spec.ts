import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore } from '@detsearch/artifacts';
import { storeTargets } from './helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(Buffer.isBuffer(p) ? p : Buffer.from(p));
  return Buffer.concat(parts);
}

/** `bytes` in uneven pieces, as a file or a socket would deliver them. */
function pieces(bytes: Buffer, size = 64 * 1024 + 7): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );
}

/** A stream that delivers `good` bytes, then fails. */
function failingAfter(good: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield good;
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('the writer died');
    })(),
  );
}

/**
 * One contract, every store: what the trial pipeline, the API's download, retention and gc rely on.
 */
for (const target of storeTargets()) {
  describe.skipIf(Boolean(target.skip))(
    `artifact store contract: ${target.name}${target.skip ? ` (skipped: ${target.skip})` : ''}`,
    () => {
      let store: ArtifactStore;
      let cleanup: () => Promise<void>;

      beforeAll(async () => {
        const opened = await target.open();
        store = opened.store;
        cleanup = opened.cleanup;
      });
      afterAll(async () => {
        await cleanup?.();
      });

      it('puts a stream and gets it back, streamed, with its size and checksum', async () => {
        const bytes = randomBytes(700 * 1024 + 13); // several chunks of the postgres store here
        const put = await store.put('searches/s1/trials/t1/a1/model-fp32.onnx', pieces(bytes));
        expect(put).toMatchObject({
          key: 'searches/s1/trials/t1/a1/model-fp32.onnx',
          size: bytes.length,
          sha256: sha(bytes),
        });
        const got = await store.get(put.key);
        expect(got).not.toBeNull();
        expect(got!.size).toBe(bytes.length);
        expect(got!.sha256).toBe(sha(bytes));
        expect(got!.stream).toBeInstanceOf(Readable);
        expect((await readAll(got!.stream)).equals(bytes)).toBe(true);
        expect(await store.stat(put.key)).toMatchObject({ size: bytes.length, sha256: sha(bytes) });
        expect(await store.exists(put.key)).toBe(true);
      });

      it('streams an artifact larger than an S3 multipart part (two parts), byte for byte', async () => {
        const bytes = randomBytes(5_500_000);
        const put = await store.put(
          'searches/s7/trials/t1/a1/model-int8.onnx',
          pieces(bytes, 1024 * 1024 - 3),
        );
        expect(put).toMatchObject({ size: bytes.length, sha256: sha(bytes) });
        const got = await store.get(put.key);
        expect(got!.size).toBe(bytes.length);
        expect(sha(await readAll(got!.stream))).toBe(sha(bytes));
      }, 120_000);

      it('takes buffers and empty artifacts', async () => {
        await store.put('misc/empty.bin', Buffer.alloc(0));
        const got = await store.get('misc/empty.bin');
        expect(got?.size).toBe(0);
        expect(got?.sha256).toBe(sha(Buffer.alloc(0)));
        expect((await readAll(got!.stream)).length).toBe(0);
      });

      it('answers null / false for what is not there', async () => {
        expect(await store.get('nothing/here.onnx')).toBeNull();
        expect(await store.stat('nothing/here.onnx')).toBeNull();
        expect(await store.exists('nothing/here.onnx')).toBe(false);
        expect(await store.delete('nothing/here.onnx')).toBe(false);
      });

      it('replaces a key: the new bytes and checksum, one entry in the listing', async () => {
        const a = randomBytes(300 * 1024);
        const b = randomBytes(90 * 1024);
        await store.put('searches/s2/trials/t1/a1/weights.safetensors', a);
        await store.put('searches/s2/trials/t1/a1/weights.safetensors', pieces(b));
        const got = await store.get('searches/s2/trials/t1/a1/weights.safetensors');
        expect(got!.sha256).toBe(sha(b));
        expect((await readAll(got!.stream)).equals(b)).toBe(true);
        expect((await store.list('searches/s2/')).map((x) => x.key)).toEqual([
          'searches/s2/trials/t1/a1/weights.safetensors',
        ]);
      });

      it('lists by prefix, sorted, with sizes; "_" in a prefix is no wildcard', async () => {
        await store.put('searches/s3/trials/t2/a1/model-int8.onnx', Buffer.from('bb'));
        await store.put('searches/s3/trials/t1/a1/model-int8.onnx', Buffer.from('a'));
        await store.put('searches/s3x/trials/t1/a1/model-int8.onnx', Buffer.from('c'));
        await store.put('searches/a_b/x.bin', Buffer.from('d'));
        await store.put('searches/aXb/x.bin', Buffer.from('e'));
        const listed = await store.list('searches/s3/');
        expect(listed.map((x) => [x.key, x.size])).toEqual([
          ['searches/s3/trials/t1/a1/model-int8.onnx', 1],
          ['searches/s3/trials/t2/a1/model-int8.onnx', 2],
        ]);
        expect(listed[0]!.sha256).toBe(sha(Buffer.from('a')));
        expect((await store.list('searches/a_b/')).map((x) => x.key)).toEqual(['searches/a_b/x.bin']);
        expect((await store.list('')).length).toBeGreaterThanOrEqual(6);
      });

      it('deletes', async () => {
        await store.put('searches/s4/trials/t1/a1/model-fp16.onnx', Buffer.from('x'));
        expect(await store.delete('searches/s4/trials/t1/a1/model-fp16.onnx')).toBe(true);
        expect(await store.get('searches/s4/trials/t1/a1/model-fp16.onnx')).toBeNull();
        expect(await store.list('searches/s4/')).toEqual([]);
      });

      it('refuses keys that could escape or collide, naming the field', async () => {
        for (const bad of ['../etc/passwd', '/abs', 'a//b', '.hidden/x', 'a/../b', '', 'sp ace', 'a\\b'])
          await expect(store.put(bad, Buffer.from('x'))).rejects.toMatchObject({
            code: 'ARTIFACT.INVALID_KEY',
            field: 'key',
          });
        await expect(store.get('../x')).rejects.toMatchObject({ code: 'ARTIFACT.INVALID_KEY' });
      });

      it('a put whose stream fails shows nothing, keeps the previous version, and the key can be put again', async () => {
        const key = 'searches/s5/trials/t1/a1/model-fp32.onnx';
        const first = randomBytes(50_000);
        await store.put(key, first);
        await expect(store.put(key, failingAfter(randomBytes(600 * 1024)))).rejects.toThrow();
        const still = await store.get(key);
        expect(still!.sha256).toBe(sha(first));
        expect((await readAll(still!.stream)).equals(first)).toBe(true);
        await expect(
          store.put('searches/s5/trials/t1/a1/new.bin', failingAfter(randomBytes(600 * 1024))),
        ).rejects.toThrow();
        expect(await store.exists('searches/s5/trials/t1/a1/new.bin')).toBe(false);
        const again = randomBytes(400 * 1024);
        await store.put('searches/s5/trials/t1/a1/new.bin', pieces(again));
        expect(
          (await readAll((await store.get('searches/s5/trials/t1/a1/new.bin'))!.stream)).equals(again),
        ).toBe(true);
        // Nothing pending is left by a put that failed in-process (gc is for killed writers).
        const sweep = await store.gcPending(new Date(Date.now() + 60_000), { dryRun: true });
        expect(sweep.removed).toBe(0);
      });

      it('a reader keeps the version it opened while a put replaces it', async () => {
        const key = 'searches/s6/trials/t1/a1/model-fp32.onnx';
        const v1 = randomBytes(600 * 1024);
        const v2 = randomBytes(600 * 1024);
        await store.put(key, v1);
        const reading = await store.get(key);
        // Wait for the first bytes, then replace underneath.
        const it = reading!.stream[Symbol.asyncIterator]();
        const first = await it.next();
        const replace = store.put(key, v2);
        const rest: Buffer[] = [Buffer.from(first.value as Buffer)];
        let failed: unknown = null;
        try {
          for (let r = await it.next(); !r.done; r = await it.next())
            rest.push(Buffer.from(r.value as Buffer));
        } catch (err) {
          failed = err;
        }
        await replace;
        // Either the whole old version or an error (postgres: the old chunks went with the flip); never a mix.
        if (!failed) expect(sha(Buffer.concat(rest))).toBe(sha(v1));
        else expect(String(failed)).toMatch(/replaced or deleted/);
        expect((await store.stat(key))!.sha256).toBe(sha(v2));
      });
    },
  );
}
