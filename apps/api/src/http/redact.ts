import { createHash } from 'node:crypto';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';

export interface RedactOptions {
  /** Dataset paths are shown relative to this (DATA_ROOT). */
  dataRoot: string;
  /** Model paths are shown relative to this (DETSEARCH_HOME). */
  home: string;
}

/** A worker's internal id (hostname:pid) as a stable opaque token: tells workers apart, names no host. */
export function opaqueWorkerId(id: string): string {
  return `w-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** An absolute path as a path relative to `root`, or only its file name when it lies elsewhere. */
export function relativePath(path: string, root: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(resolve(root), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : basename(path);
}

const MAX_DEPTH = 6;

/**
 * Rewrites the fields of API responses that would expose the host: absolute dataset and model
 * paths become relative, worker and runner ids (hostname:pid) become opaque tokens. Returns a copy; stored rows are untouched.
 */
export function redact(value: unknown, options: RedactOptions, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, options, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string' && k === 'dataset') out[k] = relativePath(v, options.dataRoot);
    else if (typeof v === 'string' && k === 'onnxPath') out[k] = relativePath(v, options.home);
    else if (typeof v === 'string' && (k === 'workerId' || k === 'runnerId')) out[k] = opaqueWorkerId(v);
    else out[k] = redact(v, options, depth + 1);
  }
  return out;
}

@Injectable()
export class RedactInterceptor implements NestInterceptor {
  constructor(private readonly options: RedactOptions) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((body: unknown) => redact(body, this.options)));
  }
}
