import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assertKey, assertPrefix } from './keys';
import { HashTap, toReadable } from './stream-util';
import type { ArtifactDownload, ArtifactInfo, ArtifactStore, PendingSweep } from './types';
import type { Readable } from 'node:stream';

interface Meta {
  sha256: string;
  size: number;
  /** Inode of the data file this describes: a meta file left from an older version does not match. */
  ino: number;
  createdAt: string;
}

/**
 * Artifacts as files under one folder (default `DETSEARCH_HOME/artifacts`): `data/<key>` holds the
 * bytes, `meta/<key>.json` the checksum, `pending/` the uploads in progress. A put writes to
 * pending, syncs, then renames into place (atomic on one filesystem), so a reader sees the old file
 * or the new one. The checksum file names the inode it describes: in the instant between the two
 * renames (or after a crash there) the data file does not match it and the checksum is recomputed
 * from the bytes, never taken from the previous version.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly kind = 'fs' as const;
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private dataPath(key: string): string {
    return join(this.location, 'data', ...assertKey(key).split('/'));
  }

  private metaPath(key: string): string {
    return join(this.location, 'meta', ...key.split('/')) + '.json';
  }

  private get pendingDir(): string {
    return join(this.location, 'pending');
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options: { signal?: AbortSignal } = {},
  ): Promise<ArtifactInfo> {
    const target = this.dataPath(key);
    await mkdir(this.pendingDir, { recursive: true });
    const id = randomUUID();
    const tmp = join(this.pendingDir, id);
    const tap = new HashTap();
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      await pipeline(toReadable(body), tap, out, options.signal ? { signal: options.signal } : {});
      const fh = await open(tmp, 'r');
      let ino: number;
      try {
        await fh.sync();
        ino = (await fh.stat()).ino;
      } finally {
        await fh.close();
      }
      const createdAt = new Date();
      const meta: Meta = { sha256: tap.sha256, size: tap.bytes, ino, createdAt: createdAt.toISOString() };
      const metaTmp = `${tmp}.json`;
      await writeFile(metaTmp, JSON.stringify(meta));
      await mkdir(dirname(target), { recursive: true });
      await mkdir(dirname(this.metaPath(key)), { recursive: true });
      await rename(tmp, target);
      await rename(metaTmp, this.metaPath(key));
      return { key, size: tap.bytes, sha256: tap.sha256, createdAt };
    } catch (err) {
      await rm(tmp, { force: true });
      await rm(`${tmp}.json`, { force: true });
      throw err;
    }
  }

  /** Info of the data file open as `fd`-stat `st`: from its meta file when that describes it. */
  private async infoOf(
    key: string,
    st: { ino: number; size: number; mtime: Date },
    path: string,
  ): Promise<ArtifactInfo> {
    const meta = await readFile(this.metaPath(key), 'utf8')
      .then((t) => JSON.parse(t) as Meta)
      .catch(() => null);
    if (meta && meta.ino === st.ino && meta.size === st.size)
      return { key, size: meta.size, sha256: meta.sha256, createdAt: new Date(meta.createdAt) };
    const tap = new HashTap();
    await pipeline(createReadStream(path), tap, async (s) => {
      for await (const _ of s);
    });
    return { key, size: tap.bytes, sha256: tap.sha256, createdAt: st.mtime };
  }

  async get(key: string): Promise<ArtifactDownload | null> {
    const path = this.dataPath(key);
    // Opened first: a put replacing the file from here on does not change what this read returns.
    const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return null;
      throw err;
    });
    if (!fh) return null;
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        return null;
      }
      const info = await this.infoOf(key, st, path);
      return { ...info, stream: fh.createReadStream({ start: 0, autoClose: true }) };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    const path = this.dataPath(key);
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) return null;
    return this.infoOf(key, st, path);
  }

  async exists(key: string): Promise<boolean> {
    const st = await stat(this.dataPath(key)).catch(() => null);
    return Boolean(st?.isFile());
  }

  async delete(key: string): Promise<boolean> {
    const path = this.dataPath(key);
    const existed = await unlink(path).then(
      () => true,
      () => false,
    );
    await rm(this.metaPath(key), { force: true });
    if (existed) await this.pruneEmpty(dirname(path), join(this.location, 'data'));
    return existed;
  }

  /** Removes folders a delete left empty, up to `root`. */
  private async pruneEmpty(dir: string, root: string): Promise<void> {
    while (dir.startsWith(root + sep)) {
      // only an empty folder goes; the first one that is not ends the climb
      const ok = await rmdir(dir).then(
        () => true,
        () => false,
      );
      if (!ok) return;
      dir = dirname(dir);
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    assertPrefix(prefix);
    const base = join(this.location, 'data');
    // Walk only the folder the prefix names (and filter by the rest of it).
    const slash = prefix.lastIndexOf('/');
    const start = slash >= 0 ? join(base, ...prefix.slice(0, slash).split('/')) : base;
    const out: ArtifactInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          const key = relative(base, p).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const st = await stat(p).catch(() => null);
          if (st) out.push(await this.infoOf(key, st, p));
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async gcPending(olderThan: Date, options: { dryRun?: boolean } = {}): Promise<PendingSweep> {
    const sweep: PendingSweep = { removed: 0, bytes: 0 };
    const entries = await readdir(this.pendingDir).catch(() => [] as string[]);
    for (const name of entries) {
      const p = join(this.pendingDir, name);
      const st = await stat(p).catch(() => null);
      if (!st || st.mtime >= olderThan) continue;
      if (!name.endsWith('.json')) {
        sweep.removed++;
        sweep.bytes += st.size;
      }
      if (!options.dryRun) await rm(p, { force: true, recursive: true });
    }
    return sweep;
  }

  async close(): Promise<void> {}
}
