import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from './express-types';
import { isDomainError, type DomainError } from '@detsearch/common';
import { httpStatusFor } from '@detsearch/domain';

/** The one error shape of the API, plus the domain code and field when known. */
export interface ErrorBody {
  statusCode: number;
  message: string;
  error: string;
  code?: string;
  field?: string;
}

/** The HTTP status of a domain error code, from the domain's error-code table. */
export function statusForDomainCode(code: string): number {
  return httpStatusFor(code);
}

function domainBody(err: DomainError): ErrorBody {
  const statusCode = statusForDomainCode(err.code);
  const message =
    err.field && !err.message.includes(err.field) ? `${err.field}: ${err.message}` : err.message;
  return { statusCode, message, error: STATUS_CODES[statusCode]!, code: err.code, field: err.field };
}

function httpBody(err: HttpException): ErrorBody {
  const statusCode = err.getStatus();
  const res = err.getResponse();
  const base: ErrorBody = { statusCode, message: err.message, error: STATUS_CODES[statusCode] ?? 'Error' };
  if (typeof res === 'string') return { ...base, message: res };
  const r = res as Partial<ErrorBody> & { message?: unknown };
  return {
    ...base,
    ...r,
    statusCode,
    message: Array.isArray(r.message) ? r.message.join('; ') : String(r.message ?? err.message),
  } as ErrorBody;
}

/** Errors raised by Express middleware (body-parser: 400 malformed JSON, 413 too large, 415 charset). */
function middlewareBody(err: unknown): ErrorBody | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499 || e.expose !== true) return undefined;
  return { statusCode: status, message: String(e.message), error: STATUS_CODES[status] ?? 'Error' };
}

export function toErrorBody(err: unknown): ErrorBody {
  if (isDomainError(err)) return domainBody(err);
  if (err instanceof HttpException) return httpBody(err);
  return (
    middlewareBody(err) ?? {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      message: 'Internal server error',
      error: STATUS_CODES[500]!,
    }
  );
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const body = toErrorBody(err);
    if (body.statusCode >= 500)
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    const res = host.switchToHttp().getResponse<Response>();
    // An SSE stream that already started cannot change its status; end it instead.
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(body.statusCode).json(body);
  }
}
