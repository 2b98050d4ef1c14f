import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@detsearch/common';
import type { Config } from '@detsearch/config';
import type { Database } from '@detsearch/persistence';
import { FsArtifactStore } from './fs-store';
import { PgArtifactStore } from './pg-store';
import { S3ArtifactStore, type S3StoreOptions } from './s3-store';
import { HashTap } from './stream-util';
import type { ArtifactInfo, ArtifactStore, ArtifactStoreKind } from './types';

export interface ArtifactStoreOptions {
  /** Absent: 'postgres' on a Postgres server (every machine of a cluster reaches it), else 'fs'. */
  kind?: ArtifactStoreKind;
  /** DETSEARCH_HOME: the fs store keeps its files in <home>/artifacts. */
  home?: string;
  /** The fs store's folder, instead of <home>/artifacts. */
  fsRoot?: string;
  /** The s3 store's bucket and connection; required with kind 's3'. */
  s3?: Partial<S3StoreOptions>;
}

/** The store the options choose, on the process's database (the postgres store writes through it). */
export function openArtifactStore(options: ArtifactStoreOptions, db: Database | null): ArtifactStore {
  const kind = options.kind ?? (db?.kind === 'postgres' ? 'postgres' : 'fs');
  if (kind === 'postgres') {
    if (!db)
      throw new DomainError(
        'ARTIFACT.STORE_UNAVAILABLE',
        'ARTIFACT_STORE: postgres needs the database (DATABASE_URL or the embedded one)',
        'ARTIFACT_STORE',
      );
    return new PgArtifactStore(db);
  }
  if (kind === 's3') {
    if (!options.s3?.bucket)
      throw new DomainError(
        'ARTIFACT.STORE_UNAVAILABLE',
        'ARTIFACT_S3_BUCKET: ARTIFACT_STORE=s3 needs a bucket',
        'ARTIFACT_S3_BUCKET',
      );
    return new S3ArtifactStore(options.s3 as S3StoreOptions);
  }
  return new FsArtifactStore(options.fsRoot ?? join(resolve(options.home ?? '.detsearch'), 'artifacts'));
}

/** Stores a local file under `key` (streamed). */
export function putFile(store: ArtifactStore, key: string, path: string): Promise<ArtifactInfo> {
  return store.put(key, createReadStream(path));
}

/**
 * Downloads `key` to `dest` through a temporary file, checking its SHA-256 against the one stored
 * with it before the file appears at `dest`. Null when the store has no such artifact.
 */
export async function fetchToFile(
  store: ArtifactStore,
  key: string,
  dest: string,
): Promise<ArtifactInfo | null> {
  const got = await store.get(key);
  if (!got) return null;
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${randomUUID().slice(0, 8)}`;
  const tap = new HashTap();
  try {
    await pipeline(got.stream, tap, createWriteStream(tmp));
    if (got.sha256 && tap.sha256 !== got.sha256)
      throw new Error(`artifact ${key}: checksum mismatch (stored ${got.sha256}, read ${tap.sha256})`);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const { stream: _stream, ...info } = got;
  return info;
}

/** The store options the process configuration describes (ARTIFACT_STORE and ARTIFACT_S3_*). */
export function artifactOptionsFromConfig(config: Config): ArtifactStoreOptions {
  return {
    ...(config.ARTIFACT_STORE ? { kind: config.ARTIFACT_STORE } : {}),
    home: config.DETSEARCH_HOME,
    ...(config.ARTIFACT_STORE === 's3'
      ? {
          s3: {
            ...(config.ARTIFACT_S3_BUCKET ? { bucket: config.ARTIFACT_S3_BUCKET } : {}),
            ...(config.ARTIFACT_S3_ENDPOINT ? { endpoint: config.ARTIFACT_S3_ENDPOINT } : {}),
            region: config.ARTIFACT_S3_REGION,
            ...(config.ARTIFACT_S3_ACCESS_KEY_ID ? { accessKeyId: config.ARTIFACT_S3_ACCESS_KEY_ID } : {}),
            ...(config.ARTIFACT_S3_SECRET_ACCESS_KEY
              ? { secretAccessKey: config.ARTIFACT_S3_SECRET_ACCESS_KEY }
              : {}),
            ...(config.ARTIFACT_S3_FORCE_PATH_STYLE !== undefined
              ? { forcePathStyle: config.ARTIFACT_S3_FORCE_PATH_STYLE }
              : {}),
            ...(config.ARTIFACT_S3_PREFIX ? { prefix: config.ARTIFACT_S3_PREFIX } : {}),
          },
        }
      : {}),
  };
}
