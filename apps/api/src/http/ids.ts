import { NotFoundException, type PipeTransform } from '@nestjs/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The canonical (lower-case) form of a UUID, or undefined when `raw` is not one. */
export function canonicalId(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length !== 36) return undefined;
  const id = raw.toLowerCase();
  return UUID.test(id) ? id : undefined;
}

/**
 * Route ids are normalized at the edge: an upper-case UUID names the same search as its
 * lower-case form everywhere (reads, cancel, resume), and anything that is not a UUID is a plain
 * 404 before it reaches the database.
 */
export class ParseIdPipe implements PipeTransform<unknown, string> {
  constructor(
    private readonly kind: 'search' | 'trial',
    private readonly code = kind === 'search' ? 'SEARCH.NOT_FOUND' : 'TRIAL.NOT_FOUND',
  ) {}

  transform(value: unknown): string {
    const id = canonicalId(value);
    if (id) return id;
    const shown = typeof value === 'string' && value.length <= 64 ? ` ${JSON.stringify(value)}` : '';
    throw new NotFoundException({
      message: `id: no ${this.kind}${shown} (ids are UUIDs)`,
      error: 'Not Found',
      code: this.code,
      field: 'id',
    });
  }
}

export const SearchId = new ParseIdPipe('search');
export const TrialId = new ParseIdPipe('trial');
