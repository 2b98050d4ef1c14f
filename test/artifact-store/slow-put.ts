/**
 * A writer to be killed: puts KEY into the store the arguments name, streaming CHUNKS chunks of
 * 256 KiB with a pause between them, and prints `sent N` after each, so the parent can SIGKILL it
 * mid-upload. Usage: slow-put.ts <fs DIR | postgres URL SCHEMA | s3 ENDPOINT BUCKET PREFIX> KEY CHUNKS
 */
import { Readable } from 'node:stream';
import { FsArtifactStore, PgArtifactStore, S3ArtifactStore, type ArtifactStore } from '@detsearch/artifacts';
import { createDataSource } from '@detsearch/persistence';

async function main(): Promise<void> {
  const [kind, ...rest] = process.argv.slice(2);
  let store: ArtifactStore;
  let args: string[];
  if (kind === 'fs') {
    store = new FsArtifactStore(rest[0]!);
    args = rest.slice(1);
  } else if (kind === 'postgres') {
    const db = await createDataSource({ databaseUrl: rest[0]!, schema: rest[1]! });
    store = new PgArtifactStore(db, 256 * 1024);
    args = rest.slice(2);
  } else {
    store = new S3ArtifactStore({
      endpoint: rest[0]!,
      bucket: rest[1]!,
      prefix: rest[2]!,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    args = rest.slice(3);
  }
  const [key, chunks] = [args[0]!, Number(args[1])];
  const body = Readable.from(
    (async function* () {
      for (let i = 0; i < chunks; i++) {
        yield Buffer.alloc(256 * 1024, i % 251);
        process.stdout.write(`sent ${i + 1}\n`);
        await new Promise((r) => setTimeout(r, 5));
      }
    })(),
  );
  await store.put(key, body);
  process.stdout.write('committed\n');
  process.exit(0);
}

void main();
