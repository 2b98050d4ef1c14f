import type { CandidateScore, ScoreCandidateOptions } from './types';

/**
 * Scores one genome on a supernet: extract its weights, recalibrate BatchNorm, export at the genome's
 * precision, mAP as deployed through onnxruntime, measured and predicted latency.
 */
export async function scoreCandidate(opts: ScoreCandidateOptions): Promise<CandidateScore> {
  throw new Error(`scoreCandidate: not implemented yet (${opts.outDir})`);
}
