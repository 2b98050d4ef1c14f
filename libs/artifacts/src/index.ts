export * from './types';
export * from './keys';
export { FsArtifactStore } from './fs-store';
export { PgArtifactStore, PG_CHUNK_BYTES } from './pg-store';
export { S3ArtifactStore, type S3StoreOptions } from './s3-store';
export {
  openArtifactStore,
  artifactOptionsFromConfig,
  putFile,
  fetchToFile,
  type ArtifactStoreOptions,
} from './open';
export { HashTap } from './stream-util';
