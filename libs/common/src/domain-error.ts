/**
 * An error in the caller's input or in domain rules, carrying a stable code
 * (`GENOME.INVALID_FIELD`) and, where one is to blame, the field path.
 * Adapters map codes to exit statuses or HTTP statuses in one place.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
