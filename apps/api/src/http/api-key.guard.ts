import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from './express-types';
import { API_CONFIG } from '../tokens';
import type { ApiConfig } from '../config';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Compares digests so that neither the key's content nor its length leaks through timing. */
export function keysMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function presentedKey(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m?.[1]?.trim();
}

export const API_KEY_MESSAGE =
  'x-api-key: missing or invalid API key (x-api-key header or Authorization: Bearer)';

/** True when the request may proceed: no key configured, a safe method, or the right key. */
export function authorized(req: Pick<Request, 'headers' | 'method'>, expected: string | undefined): boolean {
  if (!expected || SAFE_METHODS.has(req.method)) return true;
  const given = presentedKey(req);
  return given !== undefined && keysMatch(given, expected);
}

/**
 * The same check as Express middleware ahead of the body parser, so an unauthenticated client
 * cannot make the service read and parse a body at all.
 */
export function apiKeyMiddleware(expected: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (authorized(req, expected)) return next();
    res
      .status(401)
      .json({ statusCode: 401, message: API_KEY_MESSAGE, error: 'Unauthorized', field: 'x-api-key' });
  };
}

/** When API_KEY is set, mutating routes need it in `x-api-key` or `Authorization: Bearer`. Reads stay open. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (authorized(context.switchToHttp().getRequest<Request>(), this.config.API_KEY)) return true;
    throw new UnauthorizedException(API_KEY_MESSAGE);
  }
}
