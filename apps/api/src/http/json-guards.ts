import { isStorableText } from '@detsearch/orchestrator';
import type { NextFunction } from './express-types';

/** An error body-parser and Express pass to the error filter as a 400 with this message. */
export function badRequest(message: string): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true });
}

/**
 * Deepest nesting of arrays and objects in JSON text, found by a linear scan before parsing (so a
 * body nested thousands deep is refused before anything recurses over it). Stops counting once
 * past `limit`.
 */
export function jsonDepth(buf: Uint8Array, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * The first key or string in a parsed JSON value that the database cannot store (NUL) or that is
 * not valid Unicode (a lone surrogate), as a dotted path; undefined when all are fine. Iterative,
 * though the depth is bounded before this runs anyway.
 */
export function unstorableTextPath(value: unknown): string | undefined {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) return path || 'body';
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]` }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const child = path ? `${path}.${k}` : k;
        if (!isStorableText(k)) return path || 'body';
        stack.push({ v: x, path: child });
      }
    }
  }
  return undefined;
}

/** Rejects a parsed JSON body holding text the service cannot store, naming where it is. */
export function storableTextMiddleware() {
  return (req: { body?: unknown }, _res: unknown, next: NextFunction): void => {
    const path = req.body !== undefined ? unstorableTextPath(req.body) : undefined;
    next(path ? badRequest(`${path}: must not contain NUL characters or unpaired surrogates`) : undefined);
  };
}

/**
 * Malformed JSON as a 400 that names the body (Nest would pass body-parser's SyntaxError on with
 * only the parser's text).
 */
export function jsonSyntaxErrors() {
  return (err: unknown, _req: unknown, _res: unknown, next: NextFunction): void => {
    next(err instanceof SyntaxError ? badRequest(`body: not valid JSON (${err.message})`) : err);
  };
}
