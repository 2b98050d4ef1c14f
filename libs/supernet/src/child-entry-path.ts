import { childEntry } from '@detsearch/training';

/** This library's child entry: compiled JS as is, the TS source through swc-node under vitest and bench. */
export function supernetChildEntry(): { file: string; execArgv: string[] } {
  return childEntry(__dirname, 'child-entry', !__filename.endsWith('.ts'));
}
