import type { Readable } from 'node:stream';

/** What the store knows about one committed artifact. */
export interface ArtifactInfo {
  key: string;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 of the bytes, computed while they were written. */
  sha256: string;
  createdAt: Date;
}

/** An artifact being read: its bytes as a stream, with what a download must announce up front. */
export interface ArtifactDownload extends ArtifactInfo {
  stream: Readable;
}

/** What `gcPending` removed: interrupted uploads older than the cut-off. */
export interface PendingSweep {
  removed: number;
  bytes: number;
}

/**
 * Where everything a trial or a supernet produces lives (models, weights, checkpoints), under
 * slash-separated keys such as `searches/<id>/trials/<id>/1/model-int8.onnx`. Every
 * implementation streams in and out (a model never sits whole in memory) and makes a put atomic:
 * readers see the previous version or the complete new one, never a part; a put interrupted at
 * any point (even by SIGKILL) leaves only a pending upload that a later put of the same key
 * ignores and `gcPending` removes.
 */
export interface ArtifactStore {
  /** 'fs', 'postgres' or 's3'. */
  readonly kind: ArtifactStoreKind;
  /** Where the artifacts are, for logs and `detsearch gc` (no credentials). */
  readonly location: string;
  /** Stores the stream's bytes under `key`, replacing what was there; resolves once committed. */
  put(key: string, body: Readable | Buffer, options?: { signal?: AbortSignal }): Promise<ArtifactInfo>;
  /** The artifact's bytes as a stream; null when there is none. */
  get(key: string): Promise<ArtifactDownload | null>;
  stat(key: string): Promise<ArtifactInfo | null>;
  exists(key: string): Promise<boolean>;
  /** Removes it; false when there was nothing. */
  delete(key: string): Promise<boolean>;
  /** Every committed artifact whose key starts with `prefix` (e.g. `searches/<id>/`), by key. */
  list(prefix: string): Promise<ArtifactInfo[]>;
  /** Removes uploads that started before `olderThan` and never committed (a killed writer's). */
  gcPending(olderThan: Date, options?: { dryRun?: boolean }): Promise<PendingSweep>;
  close(): Promise<void>;
}

export const ARTIFACT_STORE_KINDS = ['fs', 'postgres', 's3'] as const;
export type ArtifactStoreKind = (typeof ARTIFACT_STORE_KINDS)[number];
