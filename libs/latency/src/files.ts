import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DomainError } from '@detsearch/common';
import { parseSearchSpaceYaml, type SearchSpaceSpec } from '@detsearch/search-space';
import { parsePreset, type Preset } from './preset';
import { parseHardwareProfile, type HardwareProfile } from './profile';
import { hostCpu } from './host-cpu';
import { withPublishedCalibration } from './published';

// File adapters around the pure profile/preset/predictor modules.

/** The repository folder: walks up from here (TS source or compiled dist) to package.json named detsearch. */
export function findRepoRoot(from: string = __dirname): string {
  for (const start of [from, process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg)) {
        try {
          if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'detsearch') return dir;
        } catch {
          // an unreadable package.json is not ours; keep walking
        }
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`cannot find the detsearch repository folder above ${from} or ${process.cwd()}`);
}

export function defaultHardwareDir(): string {
  return join(findRepoRoot(), 'search-spaces', 'hardware');
}

export function defaultPresetDir(): string {
  return join(findRepoRoot(), 'search-spaces', 'presets');
}

let detsearchHome = '.detsearch';

/** Sets this process's DETSEARCH_HOME (processes call it once, from their loaded config). */
export function setDetsearchHome(home: string): void {
  detsearchHome = home;
}

/** Where fitted profiles live: <DETSEARCH_HOME>/profiles. */
export function fittedProfileDir(home: string = detsearchHome): string {
  return resolve(home, 'profiles');
}

function readYaml(path: string, code: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DomainError(code, `${path}: cannot read: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new DomainError(code, `${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
}

const stem = (file: string) => file.replace(/\.ya?ml$/, '');

export interface ProfileFileOptions {
  /**
   * false: the profile as written (stated efficiencies). Default: a profile with published figures
   * and no calibration of its own comes back fitted to those figures (withPublishedCalibration).
   */
  published?: boolean;
}

export function loadHardwareProfileFile(path: string, options: ProfileFileOptions = {}): HardwareProfile {
  const stated = parseHardwareProfile(readYaml(path, 'PROFILE.INVALID'), path);
  const profile = options.published === false ? stated : withPublishedCalibration(stated);
  const expected = stem(path.split(/[\\/]/).pop()!);
  if (profile.name !== expected)
    throw new DomainError(
      'PROFILE.INVALID',
      `${path}: name: '${profile.name}' must match the file name '${expected}'`,
      'name',
    );
  return profile;
}

/** Every profile in a folder (default: the repository's search-spaces/hardware), validated. */
export function loadHardwareProfiles(
  dir: string = defaultHardwareDir(),
  options: ProfileFileOptions = {},
): HardwareProfile[] {
  return yamlFiles(dir).map((f) => loadHardwareProfileFile(join(dir, f), options));
}

export interface ProfileLookup {
  /** Built-in profiles folder. */
  dir?: string;
  /** Fitted profiles folder, checked first so a calibrated profile wins; null skips it. */
  fittedDir?: string | null;
}

/** A profile by name: a fitted one under $DETSEARCH_HOME/profiles first, else the built-in one. */
export function getHardwareProfile(name: string, lookup: ProfileLookup = {}): HardwareProfile {
  const fittedDir = lookup.fittedDir === undefined ? fittedProfileDir() : lookup.fittedDir;
  for (const dir of fittedDir ? [fittedDir] : []) {
    for (const ext of ['.yaml', '.yml']) {
      const path = join(dir, `${name}${ext}`);
      if (!existsSync(path)) continue;
      const fitted = loadHardwareProfileFile(path);
      // A self-calibrated host profile belongs to the CPU it was measured on: on another machine
      // the built-in prior is the honest answer (ensureHostProfile then calibrates this one).
      const key = fitted.calibration?.hostKey;
      if (key !== undefined && key !== hostCpu().key) break;
      return fitted;
    }
  }
  const dir = lookup.dir ?? defaultHardwareDir();
  const file = yamlFiles(dir).find((f) => stem(f) === name);
  if (!file) {
    const known = yamlFiles(dir).map(stem);
    throw new DomainError(
      'PROFILE.UNKNOWN',
      `unknown hardware profile '${name}'; known: ${known.join(', ') || '(none)'}`,
      'profile',
    );
  }
  return loadHardwareProfileFile(join(dir, file));
}

/** Writes a (fitted) profile as YAML; default path $DETSEARCH_HOME/profiles/<name>.yaml. Returns the path. */
export function saveProfile(
  profile: HardwareProfile,
  path: string = join(fittedProfileDir(), `${profile.name}.yaml`),
): string {
  const validated = parseHardwareProfile(profile, `profile '${profile.name}'`);
  mkdirSync(dirname(path), { recursive: true });
  const header = validated.calibration
    ? `# Fitted by detsearch calibrate at ${validated.calibration.fittedAt} from measured latencies\n# (${validated.calibration.method}). Peaks and bandwidth are the built-in profile's, with its sources.\n`
    : '';
  writeFileSync(path, header + stringifyYaml(validated, { lineWidth: 110 }));
  return path;
}

export function loadDefaultSearchSpace(): SearchSpaceSpec {
  const path = join(findRepoRoot(), 'search-spaces', 'yolov5.yaml');
  return parseSearchSpaceYaml(readFileSync(path, 'utf8'), path);
}

export interface PresetLookup {
  dir?: string;
  /** Where profiles referenced by presets are found. */
  profiles?: ProfileLookup;
  base?: SearchSpaceSpec;
}

export function loadPresetFile(path: string, lookup: PresetLookup = {}): Preset {
  const doc = readYaml(path, 'PRESET.INVALID');
  const base = lookup.base ?? loadDefaultSearchSpace();
  const unchecked = parsePreset(doc, base, path);
  const expected = stem(path.split(/[\\/]/).pop()!);
  if (unchecked.name !== expected)
    throw new DomainError(
      'PRESET.INVALID',
      `${path}: name: '${unchecked.name}' must match the file name '${expected}'`,
      'name',
    );
  let profile: HardwareProfile;
  try {
    profile = getHardwareProfile(unchecked.hardwareProfile, lookup.profiles);
  } catch (err) {
    throw new DomainError(
      'PRESET.INVALID',
      `${path}: hardwareProfile: ${(err as Error).message}`,
      'hardwareProfile',
    );
  }
  return parsePreset(doc, base, path, profile);
}

/** Every preset in a folder (default: search-spaces/presets), each checked against its profile. */
export function loadPresets(lookup: PresetLookup = {}): Preset[] {
  const dir = lookup.dir ?? defaultPresetDir();
  const base = lookup.base ?? loadDefaultSearchSpace();
  return yamlFiles(dir).map((f) => loadPresetFile(join(dir, f), { ...lookup, base }));
}

export function getPreset(name: string, lookup: PresetLookup = {}): Preset {
  const dir = lookup.dir ?? defaultPresetDir();
  const file = yamlFiles(dir).find((f) => stem(f) === name);
  if (!file)
    throw new DomainError(
      'PRESET.UNKNOWN',
      `unknown preset '${name}'; known: ${yamlFiles(dir).map(stem).join(', ') || '(none)'}`,
      'preset',
    );
  return loadPresetFile(join(dir, file), lookup);
}
