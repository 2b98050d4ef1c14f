import {
  ELEM,
  attributes,
  onnx,
  tensorProto,
  valueInfo,
  type AttrValue,
  type ElemType,
  type TensorData,
} from './proto';

export interface TensorInfo {
  type: ElemType;
  dims: number[];
}

export interface NodeOutput extends TensorInfo {
  name: string;
}

/**
 * Accumulates an ONNX graph in topological order. Every node output is declared with its type and
 * full shape, so the written graph carries value_info for every intermediate tensor.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly tensors = new Map<string, TensorInfo>();
  private readonly opsetImports = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly opset: number,
  ) {
    this.opsetImports.set('', opset);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`ONNX builder: unknown tensor ${name}`);
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  input(name: string, type: ElemType, dims: number[]): string {
    this.declare(name, { type, dims });
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Marks an existing tensor as a graph output (its value_info moves to graph.output). */
  output(name: string): string {
    const t = this.info(name);
    this.outputs.push(valueInfo(name, t.type, t.dims));
    return name;
  }

  initializer(name: string, type: ElemType, dims: number[], data: TensorData): string {
    this.declare(name, { type, dims });
    this.initializers.push(tensorProto(name, type, dims, data));
    return name;
  }

  scalarFloat(name: string, value: number): string {
    return this.initializer(name, 'float32', [], Float32Array.of(value));
  }

  /** Adds a node; returns its first output's name. Pass '' for an omitted optional input. */
  node(
    opType: string,
    inputs: string[],
    outputs: NodeOutput[],
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): string {
    for (const i of inputs) if (i !== '') this.info(i);
    for (const o of outputs) this.declare(o.name, o);
    if (domain && !this.opsetImports.has(domain)) this.opsetImports.set(domain, 1);
    this.nodes.push({
      name: `${opType}:${outputs[0]!.name}`,
      opType,
      domain,
      input: inputs,
      output: outputs.map((o) => o.name),
      attribute: attributes(attrs),
    });
    return outputs[0]!.name;
  }

  private declare(name: string, info: TensorInfo): void {
    if (!name) throw new Error('ONNX builder: empty tensor name');
    if (this.tensors.has(name)) throw new Error(`ONNX builder: tensor ${name} defined twice`);
    if (!ELEM[info.type]) throw new Error(`ONNX builder: unsupported type ${info.type}`);
    this.tensors.set(name, { type: info.type, dims: [...info.dims] });
  }

  toProto(
    producer: { name: string; version: string },
    metadata: Record<string, string> = {},
  ): onnx.IModelProto {
    const outputNames = new Set(this.outputs.map((o) => o.name));
    const initNames = new Set(this.initializers.map((t) => t.name));
    const inputNames = new Set(this.inputs.map((o) => o.name));
    const intermediates = [...this.tensors.entries()].filter(
      ([n]) => !outputNames.has(n) && !initNames.has(n) && !inputNames.has(n),
    );
    return {
      // IR version 8 pairs with opset 17 (onnx 1.12+).
      irVersion: 8,
      producerName: producer.name,
      producerVersion: producer.version,
      opsetImport: [...this.opsetImports.entries()].map(([domain, version]) => ({ domain, version })),
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: intermediates.map(([n, t]) => valueInfo(n, t.type, t.dims)),
      },
    };
  }

  encode(producer: { name: string; version: string }, metadata: Record<string, string> = {}): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toProto(producer, metadata))).finish();
  }
}
