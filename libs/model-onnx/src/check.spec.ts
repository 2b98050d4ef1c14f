import { describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { assertValidModel, checkModel } from './check';
import { buildOnnxModel } from './export';
import { onnx } from './proto';

const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 64, numClasses: 2 }));
const good = buildOnnxModel(ir, initWeights(ir), { precision: 'fp32' });

/** Decodes the good model, lets `edit` break it, re-encodes. */
function broken(edit: (m: onnx.ModelProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(good);
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

const errorsOf = (bytes: Uint8Array) => checkModel(bytes).errors.join('\n');

describe('checkModel', () => {
  it('accepts the exporter output', () => {
    const report = assertValidModel(good);
    expect(report.opset).toBe(17);
    expect(report.nodes).toBeGreaterThan(100);
  });

  it('rejects bytes that are not a model', () => {
    expect(checkModel(Uint8Array.of(0xff, 0xff, 0xff)).valid).toBe(false);
  });

  it('finds an input used before it is produced (topological order)', () => {
    const bytes = broken((m) => {
      const nodes = m.graph!.node!;
      [nodes[0], nodes[1]] = [nodes[1]!, nodes[0]!];
    });
    expect(errorsOf(bytes)).toMatch(/is not defined before this node/);
  });

  it('finds a dangling input and an output never produced', () => {
    const bytes = broken((m) => {
      m.graph!.node = m.graph!.node!.filter((n) => n.output![0] !== 'output1');
    });
    expect(errorsOf(bytes)).toMatch(/graph output 'output1' is never produced/);
  });

  it('finds duplicate names, missing value_info and a missing opset', () => {
    expect(
      errorsOf(
        broken((m) => {
          m.graph!.node![1]!.output = [m.graph!.node![0]!.output![0]!];
        }),
      ),
    ).toMatch(/defined twice/);
    expect(errorsOf(broken((m) => void (m.graph!.valueInfo = m.graph!.valueInfo!.slice(3))))).toMatch(
      /has no value_info/,
    );
    expect(errorsOf(broken((m) => void (m.opsetImport = [])))).toMatch(/no default-domain opset/);
  });

  it('finds a declared shape that disagrees with inference and an initializer of the wrong size', () => {
    const shape = broken((m) => {
      const vi = m.graph!.valueInfo!.find((v) => v.name === 'model.0.conv')!;
      vi.type!.tensorType!.shape!.dim![1]!.dimValue = 99;
    });
    expect(errorsOf(shape)).toMatch(/declared float32\[1,99,32,32\], inferred float32\[1,16,32,32\]/);
    const size = broken((m) => {
      const t = m.graph!.initializer!.find((i) => i.name === 'model.0.conv.bias')!;
      t.rawData = t.rawData!.subarray(0, 8);
    });
    expect(errorsOf(size)).toMatch(/model.0.conv.bias: dims \[16\] need 16 values, holds 2/);
    const weight = broken((m) => {
      const t = m.graph!.initializer!.find((i) => i.name === 'model.1.conv.weight')!;
      t.dims = [32, 8, 6, 3];
      t.rawData = new Uint8Array(32 * 8 * 6 * 3 * 4);
    });
    expect(errorsOf(weight)).toMatch(/Conv weight \[32,8,6,3\] does not fit input channels 16/);
  });
});
