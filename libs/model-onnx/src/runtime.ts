import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';

export interface OnnxModelOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
  /** onnxruntime graph optimizations; 'disabled' runs the graph exactly as written (tests). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** An exported model loaded into onnxruntime (CPU): what the device would run. */
export class OnnxModel {
  private constructor(
    private session: ort.InferenceSession | undefined,
    readonly inputName: string,
    readonly inputShape: number[],
    readonly outputNames: readonly string[],
    readonly threads: number,
  ) {}

  static async load(source: Uint8Array | string, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const bytes = typeof source === 'string' ? new Uint8Array(readFileSync(source)) : source;
    const threads = options.threads ?? defaultThreads();
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.optimization ?? 'all',
    });
    const meta = session.inputMetadata[0];
    if (!meta || !meta.isTensor) throw new Error('OnnxModel: the model has no tensor input');
    const shape = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
    return new OnnxModel(session, meta.name, shape, session.outputNames, threads);
  }

  /** Runs one NCHW float32 batch (the model's input shape); returns the outputs in graph order. */
  async run(images: Float32Array): Promise<Float32Array[]> {
    const outputs = await this.runNamed(images);
    return this.outputNames.map((n) => outputs.get(n)!);
  }

  /** Like `run`, keyed by output name. */
  async runNamed(images: Float32Array): Promise<Map<string, Float32Array>> {
    const session = this.live();
    const size = this.inputShape.reduce((a, b) => a * b, 1);
    if (images.length !== size)
      throw new Error(`OnnxModel: input has ${images.length} values, [${this.inputShape}] needs ${size}`);
    const feeds = { [this.inputName]: new ort.Tensor('float32', images, this.inputShape) };
    const results = await session.run(feeds);
    const out = new Map<string, Float32Array>();
    for (const name of this.outputNames) {
      const t = results[name]!;
      if (t.type !== 'float32') throw new Error(`OnnxModel: output ${name} is ${t.type}, expected float32`);
      out.set(name, t.data as Float32Array);
    }
    return out;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  private live(): ort.InferenceSession {
    if (!this.session) throw new Error('OnnxModel: used after dispose()');
    return this.session;
  }
}

export function defaultThreads(): number {
  return Math.max(1, cpus().length);
}
