import { ELEM, elemTypeOf, onnx, type ElemType } from './proto';

export interface CheckReport {
  valid: boolean;
  errors: string[];
  opset: number | undefined;
  nodes: number;
  initializers: number;
  /** Node outputs whose shape was inferred here and matched the declared value_info. */
  shapesVerified: number;
}

interface Info {
  type: ElemType | undefined;
  dims: number[] | undefined;
}

type Attrs = Map<string, onnx.IAttributeProto>;

/** protobufjs decodes int64 fields as Long objects when the `long` package is present. */
const num = (v: unknown): number =>
  v == null
    ? 0
    : typeof v === 'object' && 'toNumber' in v
      ? (v as { toNumber(): number }).toNumber()
      : Number(v);

function ints(a: Attrs, name: string): number[] | undefined {
  return a.get(name)?.ints?.map(num);
}
function int(a: Attrs, name: string): number | undefined {
  const v = a.get(name);
  return v?.i == null ? undefined : num(v.i);
}

function typeInfo(vi: onnx.IValueInfoProto): Info {
  const tt = vi.type?.tensorType;
  if (!tt) return { type: undefined, dims: undefined };
  const dims = tt.shape?.dim?.map((d) => (d.dimValue == null ? -1 : num(d.dimValue)));
  return { type: elemTypeOf(tt.elemType ?? 0), dims: dims ?? undefined };
}

function broadcast(shapes: number[][]): number[] | string {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return `cannot broadcast [${shapes.map((x) => `[${x}]`).join(', ')}]`;
      d = v;
    }
    out.push(d);
  }
  return out;
}

const FLOATS: (ElemType | undefined)[] = ['float32', 'float16'];

/**
 * Infers one node's output types and shapes from its inputs, for the operators the exporter writes.
 * Returns an error string when the inputs are inconsistent (wrong weight shape, mismatched types).
 */
function inferNode(
  node: onnx.INodeProto,
  ins: Info[],
  attrs: Attrs,
  initValues: Map<string, number[]>,
): Info[] | string {
  const op = node.opType!;
  const t0 = ins[0]?.type;
  const d0 = ins[0]?.dims;
  const sameTypes = (idx: number[]) => idx.every((i) => ins[i]?.type === t0);
  const spatial = (dims: number[], kernel: number[], strides: number[], pads: number[], dil: number[]) =>
    dims.map(
      (x, i) =>
        Math.floor((x + pads[i]! + pads[i + dims.length]! - dil[i]! * (kernel[i]! - 1) - 1) / strides[i]!) +
        1,
    );
  switch (op) {
    case 'Conv':
    case 'ConvInteger': {
      const w = ins[1]?.dims;
      if (!d0 || !w || d0.length !== 4 || w.length !== 4) return `${op} needs 4-D input and weight`;
      const group = int(attrs, 'group') ?? 1;
      if (d0[1]! !== w[1]! * group)
        return `${op} weight [${w}] does not fit input channels ${d0[1]} with group ${group}`;
      if (w[0]! % group !== 0) return `${op} output channels ${w[0]} not divisible by group ${group}`;
      const kernel = ints(attrs, 'kernel_shape') ?? w.slice(2);
      if (kernel[0] !== w[2] || kernel[1] !== w[3]) return `${op} kernel_shape [${kernel}] != weight [${w}]`;
      if (op === 'Conv') {
        if (!FLOATS.includes(t0) || !sameTypes([1])) return 'Conv input/weight types differ or are not float';
        if (ins[2] && (ins[2].type !== t0 || ins[2].dims?.length !== 1 || ins[2].dims[0] !== w[0]))
          return `Conv bias must be [${w[0]}] of the input type`;
      } else if (t0 !== 'uint8' && t0 !== 'int8') return 'ConvInteger input must be 8-bit';
      const sp = spatial(
        d0.slice(2),
        kernel,
        ints(attrs, 'strides') ?? [1, 1],
        ints(attrs, 'pads') ?? [0, 0, 0, 0],
        ints(attrs, 'dilations') ?? [1, 1],
      );
      return [{ type: op === 'Conv' ? t0 : 'int32', dims: [d0[0]!, w[0]!, ...sp] }];
    }
    case 'MaxPool': {
      if (!d0 || d0.length !== 4) return 'MaxPool needs 4-D input';
      const kernel = ints(attrs, 'kernel_shape');
      if (!kernel) return 'MaxPool needs kernel_shape';
      return [
        {
          type: t0,
          dims: [
            d0[0]!,
            d0[1]!,
            ...spatial(
              d0.slice(2),
              kernel,
              ints(attrs, 'strides') ?? [1, 1],
              ints(attrs, 'pads') ?? [0, 0, 0, 0],
              [1, 1],
            ),
          ],
        },
      ];
    }
    case 'BatchNormalization':
      if (!d0 || ins.slice(1, 5).some((i) => i.dims?.length !== 1 || i.dims[0] !== d0[1]))
        return 'BatchNormalization parameters must be [C]';
      return [{ type: t0, dims: d0 }];
    case 'Sigmoid':
    case 'Relu':
    case 'HardSwish':
    case 'LeakyRelu':
    case 'Identity':
      return [{ type: t0, dims: d0 }];
    case 'Add':
    case 'Mul': {
      if (!sameTypes([1])) return `${op} input types differ (${t0}, ${ins[1]?.type})`;
      const b = broadcast(ins.map((i) => i.dims ?? []));
      return typeof b === 'string' ? b : [{ type: t0, dims: b }];
    }
    case 'Concat': {
      const axis = int(attrs, 'axis');
      if (axis === undefined || !d0) return 'Concat needs axis';
      if (!sameTypes(ins.map((_, i) => i))) return 'Concat input types differ';
      const a = axis < 0 ? axis + d0.length : axis;
      const dims = [...d0];
      dims[a] = 0;
      for (const i of ins) {
        if (i.dims?.length !== d0.length || i.dims.some((v, k) => k !== a && v !== d0[k]))
          return 'Concat shapes differ off the axis';
        dims[a] += i.dims[a]!;
      }
      return [{ type: t0, dims }];
    }
    case 'Resize': {
      const scales = initValues.get(node.input![2] ?? '');
      if (!d0 || !scales || scales.length !== d0.length)
        return 'Resize needs constant scales of the input rank';
      return [{ type: t0, dims: d0.map((d, i) => Math.floor(d * scales[i]!)) }];
    }
    case 'SpaceToDepth': {
      const b = int(attrs, 'blocksize');
      if (!d0 || d0.length !== 4 || !b || b < 1) return 'SpaceToDepth needs 4-D input and a blocksize';
      if (d0[2]! % b || d0[3]! % b) return `SpaceToDepth: [${d0}] not divisible by blocksize ${b}`;
      return [{ type: t0, dims: [d0[0]!, d0[1]! * b * b, d0[2]! / b, d0[3]! / b] }];
    }
    case 'Cast': {
      const to = elemTypeOf(int(attrs, 'to') ?? 0);
      return to ? [{ type: to, dims: d0 }] : 'Cast to an unsupported type';
    }
    case 'QuantizeLinear':
    case 'DequantizeLinear': {
      const s = ins[1]?.dims ?? [];
      const axis = int(attrs, 'axis') ?? 1;
      if (s.length === 1 && (!d0 || s[0] !== d0[axis < 0 ? axis + d0.length : axis]))
        return `${op} per-axis scale [${s}] does not match axis ${axis} of [${d0}]`;
      if (s.length > 1) return `${op} scale must be a scalar or 1-D`;
      if (ins[2] && (ins[2].dims?.length ?? 0) !== s.length)
        return `${op} zero point shape differs from scale`;
      if (op === 'QuantizeLinear') return [{ type: ins[2]?.type ?? 'uint8', dims: d0 }];
      if (t0 === 'int32' && ins[2] && ins[2].type !== 'int32')
        return 'int32 DequantizeLinear needs an int32 zero point';
      return [{ type: 'float32', dims: d0 }];
    }
    case 'DynamicQuantizeLinear':
      if (t0 !== 'float32') return 'DynamicQuantizeLinear input must be float32';
      return [
        { type: 'uint8', dims: d0 },
        { type: 'float32', dims: [] },
        { type: 'uint8', dims: [] },
      ];
    case 'MatMul': {
      const d1 = ins[1]?.dims;
      if (!d0 || !d1 || d0.length !== 2 || d1.length !== 2 || d0[1] !== d1[0])
        return 'MatMul shapes do not chain';
      if (!sameTypes([1])) return 'MatMul input types differ';
      return [{ type: t0, dims: [d0[0]!, d1[1]!] }];
    }
    default:
      return `operator ${op} is not known to this checker`;
  }
}

/**
 * Structural and shape check of an ONNX model (Python's onnx.checker is not available in Node):
 * opset imported, names unique, every node input defined before use (topological order),
 * initializer data matching its dims, value_info for every intermediate tensor, and each node's
 * output type/shape re-inferred and compared with the declared one.
 */
export function checkModel(bytes: Uint8Array): CheckReport {
  const errors: string[] = [];
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    return {
      valid: false,
      errors: [`does not decode as ModelProto: ${(err as Error).message}`],
      opset: undefined,
      nodes: 0,
      initializers: 0,
      shapesVerified: 0,
    };
  }
  const opsets = new Map(model.opsetImport.map((o) => [o.domain ?? '', num(o.version)]));
  const opset = opsets.get('') ?? opsets.get('ai.onnx');
  if (opset === undefined) errors.push('no default-domain opset imported');
  if (num(model.irVersion) < 3) errors.push(`ir_version ${num(model.irVersion)} too old`);
  const graph = model.graph as onnx.GraphProto | null;
  if (!graph)
    return {
      valid: false,
      errors: [...errors, 'no graph'],
      opset,
      nodes: 0,
      initializers: 0,
      shapesVerified: 0,
    };

  const known = new Map<string, Info>();
  const define = (name: string, info: Info, what: string) => {
    if (!name) errors.push(`${what} with an empty name`);
    else if (known.has(name)) errors.push(`tensor name '${name}' defined twice (${what})`);
    else known.set(name, info);
  };
  for (const i of graph.input as onnx.ValueInfoProto[]) {
    const info = typeInfo(i);
    if (!info.type || !info.dims) errors.push(`graph input ${i.name} has no tensor type/shape`);
    define(i.name, info, 'graph input');
  }
  const initValues = new Map<string, number[]>();
  for (const t of graph.initializer as onnx.TensorProto[]) {
    const type = elemTypeOf(t.dataType);
    const dims = t.dims.map((d) => num(d));
    const size = dims.reduce((a, b) => a * b, 1);
    if (!type) errors.push(`initializer ${t.name}: unsupported data type ${t.dataType}`);
    else if (dims.some((d) => d < 0)) errors.push(`initializer ${t.name}: negative dim`);
    else {
      const stored = t.rawData?.length
        ? t.rawData.length / ELEM[type].bytes
        : t.floatData.length || t.int32Data.length || t.int64Data.length;
      if (stored !== size)
        errors.push(`initializer ${t.name}: dims [${dims}] need ${size} values, holds ${stored}`);
      if (type === 'float32' && t.rawData?.length === size * 4 && size <= 16) {
        const buf = new Uint8Array(t.rawData); // a copy: decoded bytes may be an unaligned view
        initValues.set(t.name, Array.from(new Float32Array(buf.buffer, buf.byteOffset, size)));
      }
    }
    if ((graph.input as onnx.ValueInfoProto[]).some((i) => i.name === t.name)) continue; // legal: an overridable input
    define(t.name, { type, dims }, 'initializer');
  }

  const declared = new Map<string, Info>();
  for (const v of [...graph.valueInfo, ...graph.output] as onnx.ValueInfoProto[]) {
    if (declared.has(v.name)) errors.push(`value_info/output '${v.name}' declared twice`);
    declared.set(v.name, typeInfo(v));
  }
  const nodeNames = new Set<string>();
  let shapesVerified = 0;
  (graph.node as onnx.NodeProto[]).forEach((node, index) => {
    const where = `node ${index} (${node.opType} '${node.name}')`;
    if (node.name) {
      if (nodeNames.has(node.name)) errors.push(`${where}: node name used twice`);
      nodeNames.add(node.name);
    }
    const domain = node.domain ?? '';
    if (!opsets.has(domain)) errors.push(`${where}: domain '${domain}' not imported`);
    const ins: Info[] = [];
    for (const i of node.input) {
      if (i === '') {
        ins.push({ type: undefined, dims: undefined });
        continue;
      }
      const info = known.get(i);
      if (!info) errors.push(`${where}: input '${i}' is not defined before this node`);
      ins.push(info ?? { type: undefined, dims: undefined });
    }
    const attrs: Attrs = new Map(node.attribute.map((a) => [a.name ?? '', a]));
    const inferred = ins.some((i, k) => !i.type && node.input[k] !== '')
      ? undefined
      : inferNode(node, ins, attrs, initValues);
    if (typeof inferred === 'string') errors.push(`${where}: ${inferred}`);
    node.output.forEach((o, k) => {
      const decl = declared.get(o);
      if (!decl || !decl.type || !decl.dims)
        errors.push(`${where}: output '${o}' has no value_info with type and shape`);
      const inf = Array.isArray(inferred) ? inferred[k] : undefined;
      if (decl && inf) {
        if (inf.type !== decl.type || JSON.stringify(inf.dims) !== JSON.stringify(decl.dims))
          errors.push(
            `${where}: output '${o}' declared ${decl.type}[${decl.dims}], inferred ${inf.type}[${inf.dims}]`,
          );
        else shapesVerified++;
      }
      define(o, decl ?? { type: undefined, dims: undefined }, `output of ${where}`);
    });
  });
  for (const o of graph.output as onnx.ValueInfoProto[])
    if (!known.has(o.name)) errors.push(`graph output '${o.name}' is never produced`);
  for (const v of graph.valueInfo as onnx.ValueInfoProto[])
    if (!known.has(v.name)) errors.push(`value_info '${v.name}' names no tensor`);
  return {
    valid: errors.length === 0,
    errors,
    opset,
    nodes: graph.node.length,
    initializers: graph.initializer.length,
    shapesVerified,
  };
}

/** Throws with the first errors when the model does not pass `checkModel`. */
export function assertValidModel(bytes: Uint8Array): CheckReport {
  const report = checkModel(bytes);
  if (!report.valid) throw new Error(`invalid ONNX model: ${report.errors.slice(0, 5).join('; ')}`);
  return report;
}
