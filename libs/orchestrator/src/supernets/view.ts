import type { Supernet, SupernetProgress } from '@detsearch/persistence';

/** A supernet as the API and the CLI show it (GET /supernets, GET /supernets/:id). */
export interface SupernetView {
  id: string;
  status: Supernet['status'];
  activation: string;
  datasetFingerprint: string;
  spaceFingerprint: string;
  dataset: string | null;
  imageSizes: number[];
  budgetMinutes: number | null;
  epochs: number;
  minutes: number;
  progress: SupernetProgress | null;
  metrics: Record<string, unknown> | null;
  sizeBytes: number | null;
  /** Its weights file, relative to DETSEARCH_HOME. */
  artifactPath: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

export function toSupernetView(s: Supernet): SupernetView {
  return {
    id: s.id,
    status: s.status,
    activation: s.activation,
    datasetFingerprint: s.datasetFingerprint,
    spaceFingerprint: s.spaceFingerprint,
    dataset: s.dataset,
    imageSizes: s.imageSizes,
    budgetMinutes: s.budgetMinutes,
    epochs: s.epochs,
    minutes: s.minutes,
    progress: s.progress,
    metrics: s.metrics,
    sizeBytes: s.sizeBytes,
    artifactPath: s.artifactPath,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    finishedAt: s.finishedAt,
    error: s.error,
  };
}
