import type { EpochDecision, EpochMetrics } from './types';

/** Messages between a parent and a training child process (JSON over Node's IPC channel). */
export type ParentMessage =
  | { type: 'start'; kind: string; payload: unknown }
  | { type: 'decision'; epoch: number; decision: EpochDecision };

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'progress'; progress: unknown }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string; code?: string; stack?: string };
