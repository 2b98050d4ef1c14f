import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertKey, assertPrefix } from './keys';
import { HashTap, toReadable } from './stream-util';
import type { ArtifactDownload, ArtifactInfo, ArtifactStore, PendingSweep } from './types';

export interface S3StoreOptions {
  bucket: string;
  /** e.g. http://127.0.0.1:9000 for MinIO; absent: AWS's endpoint for the region. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Bucket in the path rather than the host name (MinIO, most self-hosted servers). */
  forcePathStyle?: boolean;
  /** Prepended to every key, e.g. 'detsearch/'. */
  prefix?: string;
  /** Multipart part size in bytes (S3's minimum, 5 MiB, by default). */
  partSize?: number;
}

const SHA_META = 'sha256';
const PENDING = '.pending/';

const notFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Artifacts in an S3-compatible bucket (AWS, MinIO, Ceph, ...). A put streams a multipart upload
 * (lib-storage's Upload, aborted on error) to a pending object, then copies it server-side to its
 * key with the checksum as metadata: the key appears complete and with its checksum in one step,
 * or not at all. A writer killed mid-way leaves an unfinished multipart upload or a pending
 * object, both swept by `gcPending`. (The copy is one CopyObject, so artifacts are limited to
 * S3's 5 GB per copy; models and weights are far below.)
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly o: S3StoreOptions) {
    this.client = new S3Client({
      region: o.region ?? 'us-east-1',
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle ?? Boolean(o.endpoint),
      ...(o.accessKeyId && o.secretAccessKey
        ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } }
        : {}),
    });
    this.prefix = o.prefix ? (o.prefix.endsWith('/') ? o.prefix : `${o.prefix}/`) : '';
  }

  get location(): string {
    return `s3://${this.o.bucket}/${this.prefix}${this.o.endpoint ? ` at ${this.o.endpoint}` : ''}`;
  }

  private name(key: string): string {
    return this.prefix + assertKey(key);
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options: { signal?: AbortSignal } = {},
  ): Promise<ArtifactInfo> {
    const target = this.name(key);
    const pending = `${this.prefix}${PENDING}${randomUUID()}`;
    const tap = new HashTap();
    const source = toReadable(body);
    source.on('error', (err) => tap.destroy(err));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.o.bucket, Key: pending, Body: source.pipe(tap) },
      partSize: this.o.partSize ?? 5 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.o.bucket,
          Key: target,
          CopySource: `${this.o.bucket}/${encodeURIComponent(pending).replace(/%2F/g, '/')}`,
          Metadata: { [SHA_META]: tap.sha256, size: String(tap.bytes) },
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
        }),
      );
      const info = await this.stat(key);
      if (!info) throw new Error(`artifact ${key}: not readable after its upload`);
      return info;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await this.client
        .send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: pending }))
        .catch(() => undefined);
    }
  }

  private infoFrom(
    key: string,
    h: { ContentLength?: number; Metadata?: Record<string, string>; LastModified?: Date },
  ) {
    return {
      key,
      size: Number(h.ContentLength ?? 0),
      sha256: h.Metadata?.[SHA_META] ?? '',
      createdAt: h.LastModified ?? new Date(0),
    };
  }

  async get(key: string): Promise<ArtifactDownload | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.name(key) }));
      return { ...this.infoFrom(key, r), stream: r.Body as Readable };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async stat(key: string): Promise<ArtifactInfo | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: this.name(key) }));
      return this.infoFrom(key, h);
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.exists(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.name(key) }));
    return true;
  }

  /** Objects under `prefix` (the store's own prefix included), pages followed. */
  private async *objects(
    prefix: string,
  ): AsyncGenerator<{ Key?: string; Size?: number; LastModified?: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) yield o;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    assertPrefix(prefix);
    const out: ArtifactInfo[] = [];
    for await (const o of this.objects(this.prefix + prefix)) {
      const key = o.Key!.slice(this.prefix.length);
      if (key.startsWith(PENDING)) continue;
      // The checksum is object metadata, which listings do not carry.
      const info = await this.stat(key);
      if (info) out.push(info);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async gcPending(olderThan: Date, options: { dryRun?: boolean } = {}): Promise<PendingSweep> {
    const sweep: PendingSweep = { removed: 0, bytes: 0 };
    for await (const o of this.objects(this.prefix + PENDING)) {
      if (!o.LastModified || o.LastModified >= olderThan) continue;
      sweep.removed++;
      sweep.bytes += Number(o.Size ?? 0);
      if (!options.dryRun)
        await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: o.Key! }));
    }
    // Unfinished multipart uploads hold storage too; not every S3-compatible server lists them.
    try {
      const r = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.o.bucket, Prefix: this.prefix + PENDING }),
      );
      for (const u of r.Uploads ?? []) {
        if (!u.Initiated || u.Initiated >= olderThan) continue;
        sweep.removed++;
        if (!options.dryRun)
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.o.bucket, Key: u.Key!, UploadId: u.UploadId! }),
          );
      }
    } catch {
      // a server without ListMultipartUploads: its own expiry rules clean them
    }
    return sweep;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
