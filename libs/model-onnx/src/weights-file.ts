import { readFileSync, writeFileSync } from 'node:fs';
import { parameterSpecs, type ModelIR, type WeightMap } from '@detsearch/genome';

/**
 * Weights on disk in the safetensors format (what Hugging Face and PyTorch read): an 8-byte
 * little-endian header length, a JSON header `{name: {dtype: "F32", shape, data_offsets: [begin, end]}}`
 * with optional `__metadata__` (string values), then the raw little-endian tensor bytes. Names are
 * the PyTorch state_dict names of `WeightMap`, so a file can be loaded by
 * `safetensors.torch.load_file` into an Ultralytics model of the same architecture.
 */
export interface WeightsFile {
  weights: WeightMap;
  shapes: Map<string, number[]>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function encodeWeights(
  weights: WeightMap,
  options: { ir?: ModelIR; shapes?: Map<string, number[]>; metadata?: Record<string, string> } = {},
): Uint8Array {
  const shapes = new Map(options.shapes ?? []);
  if (options.ir) for (const s of parameterSpecs(options.ir)) shapes.set(s.name, s.shape);
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  let offset = 0;
  const names = [...weights.keys()].sort();
  for (const name of names) {
    const data = weights.get(name)!;
    const shape = shapes.get(name) ?? [data.length];
    if (shape.reduce((a, b) => a * b, 1) !== data.length)
      throw new Error(`weights: ${name} has ${data.length} values, shape [${shape}] says otherwise`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header so the tensor data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const data = weights.get(name)!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

export function decodeWeights(bytes: Uint8Array): WeightsFile {
  if (bytes.length < 8) throw new Error('weights: file too short for a safetensors header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new Error('weights: header length exceeds the file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  } catch (err) {
    throw new Error(`weights: header is not JSON: ${(err as Error).message}`);
  }
  const dataStart = 8 + headerLength;
  const weights: WeightMap = new Map();
  const shapes = new Map<string, number[]>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as HeaderEntry;
    if (e.dtype !== 'F32') throw new Error(`weights: ${name} is ${e.dtype}; only F32 is supported`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length)
      throw new Error(`weights: ${name} offsets [${begin}, ${end}] do not fit shape [${e.shape}]`);
    // Copy: the slice must be 4-byte aligned and independent of the file buffer.
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    weights.set(name, new Float32Array(copy.buffer, copy.byteOffset, count));
    shapes.set(name, e.shape);
  }
  return { weights, shapes, metadata };
}

export function saveWeights(
  path: string,
  weights: WeightMap,
  options: Parameters<typeof encodeWeights>[1] = {},
): number {
  const bytes = encodeWeights(weights, options);
  writeFileSync(path, bytes);
  return bytes.length;
}

export function loadWeights(path: string): WeightsFile {
  return decodeWeights(new Uint8Array(readFileSync(path)));
}

/** Names missing from, or shaped differently in, a weight map compared with what the IR needs. */
export function weightMismatches(
  ir: ModelIR,
  file: { weights: WeightMap; shapes?: Map<string, number[]> },
): string[] {
  const problems: string[] = [];
  for (const spec of parameterSpecs(ir)) {
    const w = file.weights.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!w) problems.push(`${spec.name} missing`);
    else if (w.length !== size)
      problems.push(`${spec.name} has ${w.length} values, expected [${spec.shape}]`);
    else {
      const shape = file.shapes?.get(spec.name);
      if (shape && shape.join(',') !== spec.shape.join(','))
        problems.push(`${spec.name} shape [${shape}], expected [${spec.shape}]`);
    }
  }
  return problems;
}
