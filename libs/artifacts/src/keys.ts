import { DomainError } from '@detsearch/common';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]{0,127}$/;

/**
 * Keys are relative, slash-separated names of safe segments: they become file paths (fs), row
 * values (postgres) and object names (s3) alike, so none may climb out ('..'), start with a dot
 * (the stores keep their own bookkeeping there) or hold anything a shell or URL would mangle.
 */
export function assertKey(key: string, field = 'key'): string {
  const parts = key.split('/');
  if (key.length === 0 || key.length > 512 || parts.some((p) => !SEGMENT.test(p)))
    throw new DomainError(
      'ARTIFACT.INVALID_KEY',
      `${field}: '${key.slice(0, 80)}' is not an artifact key (slash-separated segments of letters, digits, '.', '_', '-', '=', none starting with '.')`,
      field,
    );
  return key;
}

/** A prefix for `list`: '' (everything) or key segments ending in '/'. */
export function assertPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (!prefix.endsWith('/')) assertKey(prefix, 'prefix');
  else assertKey(prefix.slice(0, -1), 'prefix');
  return prefix;
}

/** Everything of one search: its trials' models and weights. */
export const searchPrefix = (searchId: string): string => `searches/${searchId.toLowerCase()}/`;

/**
 * One attempt's artifact of a trial. The attempt is part of the key so that an attempt presumed
 * dead, finishing late, can never overwrite what the accepted attempt stored.
 */
export function trialArtifactKey(searchId: string, trialId: string, attempt: number, name: string): string {
  return assertKey(`${searchPrefix(searchId)}trials/${trialId.toLowerCase()}/a${attempt}/${name}`);
}

export const supernetPrefix = (supernetId: string): string => `supernets/${supernetId.toLowerCase()}/`;

export function supernetArtifactKey(supernetId: string, name: string): string {
  return assertKey(`${supernetPrefix(supernetId)}${name}`);
}

/** What a key belongs to, for garbage collection; null for keys no owner claims. */
export type KeyOwner =
  { kind: 'trial'; searchId: string; trialId: string } | { kind: 'supernet'; supernetId: string } | null;

export function ownerOf(key: string): KeyOwner {
  const p = key.split('/');
  if (p[0] === 'searches' && p[2] === 'trials' && p.length >= 5)
    return { kind: 'trial', searchId: p[1]!, trialId: p[3]! };
  if (p[0] === 'supernets' && p.length >= 3) return { kind: 'supernet', supernetId: p[1]! };
  return null;
}
