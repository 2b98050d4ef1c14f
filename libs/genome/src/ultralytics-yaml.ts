import type { Genome, Quantization } from './genome';
import { pythonRound, YOLOV5_ANCHORS, YOLOV5_TABLE, type TableRow } from './yolov5-table';

type Row = [number | number[], number, string, unknown[]];

const ACTIVATION_MODULES: Record<Genome['activation'], string> = {
  silu: 'nn.SiLU()',
  relu: 'nn.ReLU()',
  hardswish: 'nn.Hardswish()',
  leakyrelu: 'nn.LeakyReLU(0.1)',
};

/**
 * The genome as an Ultralytics YOLOv5 model yaml, so the architecture found here can be trained
 * at full scale with Ultralytics' own tools (`python train.py --cfg model.yaml`).
 *
 * Channels are written unscaled with the genome's depth/width multiples, as Ultralytics expects.
 * A separable stride-2 Conv row becomes `DWConv` + 1x1 `Conv` rows. A separable C3 is expanded into
 * plain rows (cv1, per Bottleneck 1x1 Conv + DWConv 3x3 + 1x1 Conv, cv2, Concat, cv3) when it has no
 * shortcut; a backbone C3 with shortcuts cannot be written with stock modules (there is no Add
 * row), so it is emitted as `C3DW`, a module whose 12-line definition the header gives.
 */
export function toUltralyticsYaml(genome: Genome): string {
  const separable = new Set(genome.separable);
  const rows: Row[] = [];
  const newIndex: number[] = []; // original row -> index of its last emitted row
  const ref = (from: number) => (from === -1 ? -1 : newIndex[from]!);
  let usesC3DW = false;

  YOLOV5_TABLE.forEach((row: TableRow, i) => {
    const from = row.from.length === 1 ? ref(row.from[0]!) : row.from.map((f) => ref(f));
    const sep = separable.has(i);
    if (row.block === 'Conv') {
      const args =
        row.padding !== undefined
          ? [row.channels, row.kernel, row.stride, row.padding]
          : [row.channels, row.kernel, row.stride];
      if (sep) {
        // DWConv(c1, c2=c1) keeps the input channels; Ultralytics scales c2 by width, so give the input's.
        rows.push([from, 1, 'DWConv', [inputChannels(i), row.kernel, row.stride]]);
        rows.push([-1, 1, 'Conv', [row.channels, 1, 1]]);
      } else rows.push([from, row.repeats, 'Conv', args]);
    } else if (row.block === 'C3') {
      if (!sep) rows.push([from, row.repeats, 'C3', row.shortcut ? [row.channels] : [row.channels, false]]);
      else if (row.shortcut) {
        usesC3DW = true;
        rows.push([from, row.repeats, 'C3DW', [row.channels]]);
      } else {
        // expanded C3 without shortcut: repeats must be scaled here, Ultralytics only scales n of a row
        const n =
          row.repeats > 1 ? Math.max(pythonRound(row.repeats * genome.depthMultiple), 1) : row.repeats;
        const hidden = row.channels! / 2;
        const start = rows.length;
        const absFrom = from === -1 ? start - 1 : (from as number);
        rows.push([absFrom, 1, 'Conv', [hidden, 1, 1]]); // cv1
        for (let b = 0; b < n; b++) {
          rows.push([-1, 1, 'Conv', [hidden, 1, 1]]);
          rows.push([-1, 1, 'DWConv', [hidden, 3, 1]]);
          rows.push([-1, 1, 'Conv', [hidden, 1, 1]]);
        }
        const mOut = rows.length - 1;
        rows.push([absFrom, 1, 'Conv', [hidden, 1, 1]]); // cv2
        rows.push([[mOut, -1], 1, 'Concat', [1]]);
        rows.push([-1, 1, 'Conv', [row.channels, 1, 1]]); // cv3
      }
    } else if (row.block === 'SPPF') rows.push([from, 1, 'SPPF', [row.channels, row.poolKernel]]);
    else if (row.block === 'Upsample') rows.push([from, 1, 'nn.Upsample', ['None', 2, 'nearest']]);
    else if (row.block === 'Concat') rows.push([from, 1, 'Concat', [1]]);
    else rows.push([from, 1, 'Detect', ['nc', 'anchors']]);
    newIndex[i] = rows.length - 1;
  });

  const detect = rows.length - 1;
  const backboneEnd = newIndex[9]! + 1;
  const flow = (v: unknown): string => (Array.isArray(v) ? `[${v.map(flow).join(', ')}]` : String(v));
  const section = (name: string, list: Row[], offset: number) =>
    [`${name}:`, ...list.map((r, k) => `  - ${flow(r)} # ${k + offset}`)].join('\n');
  const body = [
    `nc: ${genome.numClasses}`,
    `depth_multiple: ${genome.depthMultiple}`,
    `width_multiple: ${genome.widthMultiple}`,
    `activation: ${ACTIVATION_MODULES[genome.activation]}`,
    'anchors:',
    ...YOLOV5_ANCHORS.map((level) => `  - ${flow(level.flat())}`),
    section('backbone', rows.slice(0, backboneEnd), 0),
    section('head', rows.slice(backboneEnd), backboneEnd),
  ].join('\n');
  const q = genome.quantization;
  const header = [
    '# YOLOv5 architecture found by detsearch (Ultralytics v6+ model yaml).',
    `# genome: ${JSON.stringify(genome)}`,
    `# deploy at ${q.precision}${q.precision === 'int8' ? ` (${q.scheme}, ${q.granularity})` : ''}, input ${genome.imageSize}x${genome.imageSize}`,
    `# Detect is row ${detect}.`,
  ];
  if (q.precision === 'int8') header.push(int8Note(q, detect));
  if (usesC3DW)
    header.push(
      '# C3DW = C3 whose Bottlenecks use a depthwise-separable 3x3 conv. Add to models/common.py',
      '# and to the C3 list in models/yolo.py parse_model:',
      '#   class BottleneckDW(nn.Module):',
      '#       def __init__(self, c1, c2, shortcut=True, g=1, e=1.0):',
      '#           super().__init__(); c_ = int(c2 * e)',
      '#           self.cv1 = Conv(c1, c_, 1, 1); self.dw = DWConv(c_, c_, 3, 1); self.pw = Conv(c_, c2, 1, 1)',
      '#           self.add = shortcut and c1 == c2',
      '#       def forward(self, x):',
      '#           y = self.pw(self.dw(self.cv1(x))); return x + y if self.add else y',
      '#   class C3DW(C3):',
      '#       def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):',
      '#           super().__init__(c1, c2, n, shortcut, g, e); c_ = int(c2 * e)',
      '#           self.m = nn.Sequential(*(BottleneckDW(c_, c_, shortcut, g, e=1.0) for _ in range(n)))',
    );
  return `${header.join('\n')}\n${body}\n`;
}

function inputChannels(row: number): number {
  // the unscaled output channels of the row feeding `row` (only called for -1 inputs of Conv rows)
  for (let r = row - 1; r >= 0; r--) {
    const c = YOLOV5_TABLE[r]!.channels;
    if (c !== undefined) return c;
  }
  return 3;
}

/** The int8 deployment in one comment line: calibration and the rows kept in fp32. */
function int8Note(q: Quantization, detect: number): string {
  const rows = [0, ...(q.floatLayers ?? []), detect].join(', ');
  const auto = q.autoFloatLayers
    ? ` and the ${q.autoFloatLayers} most quantization-sensitive (chosen at export)`
    : '';
  const calibration = q.scheme === 'static' ? `${q.calibration} calibration on training images; ` : '';
  return `# int8: ${calibration}rows kept in fp32: ${rows}${auto}.`;
}
