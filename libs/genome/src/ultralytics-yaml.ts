import { rowMultiples, type Genome } from './genome';
import { scaleChannels, scaleRepeats, YOLOV5_ANCHORS, YOLOV5_TABLE, type TableRow } from './yolov5-table';

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
 * Channels are written unscaled with the genome's depth/width multiples, as Ultralytics expects,
 * and rows map one to one onto the genome's layers (row i is `model.i`). Separable layers use two
 * small modules the header defines: `ConvDW` (depthwise kxk + pointwise 1x1, for a stride-2 Conv
 * row) and `C3DW` (a C3 whose Bottlenecks' 3x3 is a ConvDW, with or without shortcut). Stock rows
 * cannot express them: a C3's hidden width is floor(make_divisible(c2 * gw, 8) / 2), which no
 * width-scaled row gives off the 1/8 grid. With these modules the state_dict names of the model
 * Ultralytics builds are the IR's weight names, so trained weights load into it.
 */
export function toUltralyticsYaml(genome: Genome): string {
  const separable = new Set(genome.separable);
  const rows: Row[] = [];
  let usesSeparable = false;
  // Per-stage multipliers have no yaml field: rows then carry their scaled channels and repeats,
  // and the global multiples are written as 1 (parse_model leaves multiples of 8 unchanged).
  const perStage = genome.stageDepth !== undefined || genome.stageWidth !== undefined;
  const channels = (row: TableRow, i: number) =>
    perStage ? scaleChannels(row.channels!, rowMultiples(genome, i).width) : row.channels!;
  const repeats = (row: TableRow, i: number) =>
    perStage ? scaleRepeats(row.repeats, rowMultiples(genome, i).depth) : row.repeats;

  YOLOV5_TABLE.forEach((row: TableRow, i) => {
    const from = row.from.length === 1 ? row.from[0]! : [...row.from];
    const sep = separable.has(i);
    if (sep) usesSeparable = true;
    if (row.block === 'Conv') {
      const c = channels(row, i);
      const args =
        row.padding !== undefined && !sep
          ? [c, row.kernel, row.stride, row.padding]
          : [c, row.kernel, row.stride];
      rows.push([from, row.repeats, sep ? 'ConvDW' : 'Conv', args]);
    } else if (row.block === 'C3') {
      const c = channels(row, i);
      rows.push([from, repeats(row, i), sep ? 'C3DW' : 'C3', row.shortcut ? [c] : [c, false]]);
    } else if (row.block === 'SPPF') rows.push([from, 1, 'SPPF', [channels(row, i), row.poolKernel]]);
    else if (row.block === 'Upsample') rows.push([from, 1, 'nn.Upsample', ['None', 2, 'nearest']]);
    else if (row.block === 'Concat') rows.push([from, 1, 'Concat', [1]]);
    else rows.push([from, 1, 'Detect', ['nc', 'anchors']]);
  });

  const detect = rows.length - 1;
  const backboneEnd = 10;
  const flow = (v: unknown): string => (Array.isArray(v) ? `[${v.map(flow).join(', ')}]` : String(v));
  const section = (name: string, list: Row[], offset: number) =>
    [`${name}:`, ...list.map((r, k) => `  - ${flow(r)} # ${k + offset}`)].join('\n');
  const body = [
    `nc: ${genome.numClasses}`,
    `depth_multiple: ${perStage ? 1 : genome.depthMultiple}`,
    `width_multiple: ${perStage ? 1 : genome.widthMultiple}`,
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
  if (usesSeparable) header.push(...SEPARABLE_MODULES);
  return `${header.join('\n')}\n${body}\n`;
}

/** Python for the separable modules; their attribute names are the IR's weight names. */
const SEPARABLE_MODULES = [
  '# ConvDW and C3DW are depthwise-separable variants of Conv and C3. Add them to models/common.py,',
  '# ConvDW to the Conv module list of models/yolo.py parse_model and C3DW to its C3 lists:',
  '#   class ConvDW(nn.Module):  # depthwise kxk (stride s) + pointwise 1x1',
  '#       def __init__(self, c1, c2, k=3, s=1):',
  '#           super().__init__(); self.dw = DWConv(c1, c1, k, s); self.pw = Conv(c1, c2, 1, 1)',
  '#       def forward(self, x):',
  '#           return self.pw(self.dw(x))',
  '#   class BottleneckDW(nn.Module):',
  '#       def __init__(self, c1, c2, shortcut=True, g=1, e=1.0):',
  '#           super().__init__(); c_ = int(c2 * e)',
  '#           self.cv1 = Conv(c1, c_, 1, 1); self.cv2 = ConvDW(c_, c2, 3, 1); self.add = shortcut and c1 == c2',
  '#       def forward(self, x):',
  '#           return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))',
  '#   class C3DW(C3):',
  '#       def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):',
  '#           super().__init__(c1, c2, n, shortcut, g, e); c_ = int(c2 * e)',
  '#           self.m = nn.Sequential(*(BottleneckDW(c_, c_, shortcut, g, e=1.0) for _ in range(n)))',
];
