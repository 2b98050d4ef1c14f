import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from './express-types';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id is kept when it is short and plain (it goes into logs and a header). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Gives every request an id (the caller's X-Request-Id if sane) and returns it as a header. */
export function requestIdMiddleware() {
  return (req: IncomingMessage & { id?: string }, res: ServerResponse, next: NextFunction): void => {
    req.id = requestIdOf(req);
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}
