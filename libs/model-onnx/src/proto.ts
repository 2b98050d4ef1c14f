import { onnx } from 'onnx-proto';

export const DataType = onnx.TensorProto.DataType;
export type DataTypeId = onnx.TensorProto.DataType;

/** Element types the exporter writes, with their ONNX ids and byte widths. */
export type ElemType = 'float32' | 'float16' | 'int8' | 'uint8' | 'int32' | 'int64';

export const ELEM: Record<ElemType, { id: number; bytes: number }> = {
  float32: { id: DataType.FLOAT, bytes: 4 },
  float16: { id: DataType.FLOAT16, bytes: 2 },
  int8: { id: DataType.INT8, bytes: 1 },
  uint8: { id: DataType.UINT8, bytes: 1 },
  int32: { id: DataType.INT32, bytes: 4 },
  int64: { id: DataType.INT64, bytes: 8 },
};

export function elemTypeOf(id: number): ElemType | undefined {
  return (Object.keys(ELEM) as ElemType[]).find((k) => ELEM[k].id === id);
}

export type TensorData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** Little-endian raw bytes of a typed array (Node and every ONNX runtime target are little-endian). */
function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** An initializer; `float16` data is given as the IEEE half bit patterns (see `toFloat16`). */
export function tensorProto(
  name: string,
  type: ElemType,
  dims: number[],
  data: TensorData,
): onnx.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size)
    throw new Error(`ONNX: initializer ${name} has ${data.length} elements, dims [${dims}] need ${size}`);
  return { name, dataType: ELEM[type].id, dims, rawData: rawBytes(data) };
}

export function valueInfo(name: string, type: ElemType, dims: number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[type].id, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

/** Attributes from plain values: integers -> INT, `{float}` -> FLOAT, arrays -> INTS, strings -> STRING. */
export function attributes(attrs: Record<string, AttrValue>): onnx.IAttributeProto[] {
  const AT = onnx.AttributeProto.AttributeType;
  return Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new Error(`ONNX: attribute ${name}: use {float} for non-integers`);
      return { name, type: AT.INT, i: v };
    }
    if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
    if ('floats' in v) return { name, type: AT.FLOATS, floats: v.floats };
    return { name, type: AT.FLOAT, f: v.float };
  });
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE 754 half bit pattern, round to nearest even; overflow saturates to +-Inf. */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float16Bits(data[i]!);
  return out;
}

export { onnx };
