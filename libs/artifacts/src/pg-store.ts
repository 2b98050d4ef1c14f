import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Database } from '@detsearch/persistence';
import { assertKey, assertPrefix } from './keys';
import { rechunk, toReadable } from './stream-util';
import type { ArtifactDownload, ArtifactInfo, ArtifactStore, PendingSweep } from './types';

/** Bytes per row of artifact_chunks: big enough to keep the row count low, small enough to stream. */
export const PG_CHUNK_BYTES = 1024 * 1024;

interface ObjectRow {
  id: string;
  key: string;
  size: string | number;
  sha256: string;
  committed_at: Date | string;
}

const infoOf = (r: ObjectRow): ArtifactInfo => ({
  key: r.key,
  size: Number(r.size),
  sha256: r.sha256,
  createdAt: new Date(r.committed_at),
});

const likePrefix = (prefix: string) => prefix.replace(/[\\%_]/g, '\\$&') + '%';

/**
 * Artifacts in the database the service already uses (tables artifact_objects and
 * artifact_chunks, migration ArtifactStore), so a cluster needs nothing but its DATABASE_URL.
 * A put inserts an uncommitted object row, then its bytes one chunk per statement (never the
 * whole file in memory or in one statement), then flips the row to committed in one short
 * transaction that also drops the previous version. Readers only see committed rows, so a writer
 * killed at any point leaves an uncommitted row that nobody reads and `gcPending` deletes.
 * It goes through the app's Database (pg pool or the embedded PGlite connection alike).
 */
export class PgArtifactStore implements ArtifactStore {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly db: Database,
    private readonly chunkBytes = PG_CHUNK_BYTES,
  ) {}

  get location(): string {
    return `${this.db.kind} database${this.db.schema ? ` (schema ${this.db.schema})` : ''}`;
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options: { signal?: AbortSignal } = {},
  ): Promise<ArtifactInfo> {
    assertKey(key);
    const id = randomUUID();
    await this.db.query(`INSERT INTO artifact_objects (id, key, committed) VALUES ($1, $2, false)`, [
      id,
      key,
    ]);
    const hash = createHash('sha256');
    let size = 0;
    try {
      let seq = 0;
      for await (const chunk of rechunk(toReadable(body), this.chunkBytes)) {
        options.signal?.throwIfAborted();
        hash.update(chunk);
        size += chunk.length;
        await this.db.query(`INSERT INTO artifact_chunks (object_id, seq, data) VALUES ($1, $2, $3)`, [
          id,
          seq++,
          chunk,
        ]);
      }
      const sha256 = hash.digest('hex');
      const row = await this.db.transaction(async (tx) => {
        // One writer per key flips at a time; the previous committed version goes with the flip.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`detsearch-artifact:${key}`]);
        await tx.query(`DELETE FROM artifact_objects WHERE key = $1 AND committed`, [key]);
        const rows = await tx.query<ObjectRow>(
          `UPDATE artifact_objects SET committed = true, size = $2, sha256 = $3, committed_at = now()
            WHERE id = $1 AND NOT committed RETURNING id, key, size, sha256, committed_at`,
          [id, size, sha256],
        );
        if (rows.length === 0)
          throw new Error(`artifact ${key}: its pending upload was removed before it committed`);
        return rows[0]!;
      });
      return infoOf(row);
    } catch (err) {
      await this.db
        .query(`DELETE FROM artifact_objects WHERE id = $1 AND NOT committed`, [id])
        .catch(() => undefined);
      throw err;
    }
  }

  private async row(key: string): Promise<ObjectRow | null> {
    assertKey(key);
    const rows = await this.db.query<ObjectRow>(
      `SELECT id, key, size, sha256, committed_at FROM artifact_objects WHERE key = $1 AND committed`,
      [key],
    );
    return rows[0] ?? null;
  }

  async get(key: string): Promise<ArtifactDownload | null> {
    const row = await this.row(key);
    if (!row) return null;
    const info = infoOf(row);
    const db = this.db;
    async function* chunks(): AsyncGenerator<Buffer> {
      let read = 0;
      for (let seq = 0; read < info.size; seq++) {
        const r = await db.query<{ data: Uint8Array }>(
          `SELECT data FROM artifact_chunks WHERE object_id = $1 AND seq = $2`,
          [row!.id, seq],
        );
        if (r.length === 0)
          throw new Error(`artifact ${key} was replaced or deleted while it was being read`);
        const d = r[0]!.data;
        const buf = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        read += buf.length;
        yield buf;
      }
    }
    return { ...info, stream: Readable.from(chunks(), { objectMode: false }) };
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    const row = await this.row(key);
    return row ? infoOf(row) : null;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.row(key)) !== null;
  }

  async delete(key: string): Promise<boolean> {
    assertKey(key);
    const r = await this.db.execute(`DELETE FROM artifact_objects WHERE key = $1 AND committed`, [key]);
    return r.affected > 0;
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    assertPrefix(prefix);
    const rows = await this.db.query<ObjectRow>(
      `SELECT id, key, size, sha256, committed_at FROM artifact_objects
        WHERE committed AND key LIKE $1 ORDER BY key`,
      [likePrefix(prefix)],
    );
    return rows.map(infoOf);
  }

  async gcPending(olderThan: Date, options: { dryRun?: boolean } = {}): Promise<PendingSweep> {
    const stale = await this.db.query<{ id: string; bytes: string | number }>(
      `SELECT o.id, coalesce((SELECT sum(length(c.data)) FROM artifact_chunks c WHERE c.object_id = o.id), 0) AS bytes
         FROM artifact_objects o WHERE NOT o.committed AND o.created_at < $1`,
      [olderThan],
    );
    if (!options.dryRun && stale.length > 0)
      await this.db.query(`DELETE FROM artifact_objects WHERE NOT committed AND id = ANY($1::uuid[])`, [
        stale.map((s) => s.id),
      ]);
    return { removed: stale.length, bytes: stale.reduce((a, s) => a + Number(s.bytes), 0) };
  }

  async close(): Promise<void> {}
}
