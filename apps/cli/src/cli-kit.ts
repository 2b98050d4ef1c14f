import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Command } from 'commander';
import { isDomainError } from '@detsearch/common';
import { ConfigError, loadConfig, type Config } from '@detsearch/config';

/** Thrown for bad command-line input: reported as one line on stderr, exit status 2. */
export class UsageError extends Error {}

let config: Config | undefined;

/** The process configuration, loaded and checked once; a bad variable is a usage error (exit 2). */
export function cliConfig(): Config {
  try {
    return (config ??= loadConfig());
  } catch (err) {
    throw err instanceof ConfigError ? new UsageError(err.message) : err;
  }
}

export interface OutputOptions {
  json?: boolean;
}

/**
 * Runs a command action: with --json exactly one JSON object goes to stdout; otherwise the
 * human-readable text. Any failure is one line on stderr and a non-zero exit.
 */
export function action<O extends OutputOptions>(
  run: (
    opts: O,
    cmd: Command,
  ) => Promise<{ json: unknown; text?: string }> | { json: unknown; text?: string },
) {
  return async (opts: O, cmd: Command): Promise<void> => {
    try {
      const result = await run(opts, cmd);
      if (opts.json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
      else process.stdout.write(`${result.text ?? JSON.stringify(result.json, null, 2)}\n`);
    } catch (err) {
      fail(err);
    }
  };
}

export function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`detsearch: ${message.split('\n')[0]}\n`);
  process.exit(err instanceof UsageError || isDomainError(err) ? 2 : 1);
}

/** Reads a JSON/YAML argument given inline (`{...}`) or as a file path. */
export function readJsonOrFile(value: string, what: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch (err) {
      throw new UsageError(`--${what}: inline JSON does not parse: ${(err as Error).message}`);
    }
  }
  if (!existsSync(value)) throw new UsageError(`--${what}: no such file '${value}'`);
  const text = readFileSync(value, 'utf8');
  try {
    return value.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`--${what}: ${value} does not parse: ${(err as Error).message}`);
  }
}

export function parseIntOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got '${value}'`);
    return n;
  };
}

export function parseFloatOption(name: string, min: number, max = Number.MAX_VALUE) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`--${name}: expected a number in [${min}, ${max}], got '${value}'`);
    return n;
  };
}

export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells.map((r) => r.map((v, c) => v.padStart(widths[c]!)).join('  ')).join('\n');
}
