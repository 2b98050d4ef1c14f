/**
 * The genome's fields as the search and the dashboard present them. `kind` says how a search
 * space may vary the field: a multiplier grid or range, an integer range, a categorical choice,
 * a subset of layers, or fixed per search.
 */
export interface GenomeDimensionInfo {
  name: string;
  /** Short label for tables and plots. */
  label: string;
  kind: 'multiple' | 'int' | 'categorical' | 'subset' | 'fixed';
  description: string;
}

export const GENOME_DIMENSION_TABLE: readonly GenomeDimensionInfo[] = [
  {
    name: 'depthMultiple',
    label: 'depth',
    kind: 'multiple',
    description: 'Scales the number of bottlenecks in every C3 block (YOLOv5 depth_multiple).',
  },
  {
    name: 'widthMultiple',
    label: 'width',
    kind: 'multiple',
    description: 'Scales every layer’s channels, rounded up to a multiple of 8 (YOLOv5 width_multiple).',
  },
  {
    name: 'imageSize',
    label: 'img',
    kind: 'int',
    description: 'Square input size in pixels, a multiple of 32 (the largest stride).',
  },
  {
    name: 'activation',
    label: 'act',
    kind: 'categorical',
    description: 'Activation after every convolution: silu, relu, hardswish or leakyrelu.',
  },
  {
    name: 'separable',
    label: 'sep',
    kind: 'subset',
    description: 'Layers whose 3x3 convolutions become depthwise-separable (depthwise 3x3 + pointwise 1x1).',
  },
  {
    name: 'quantization',
    label: 'quant',
    kind: 'categorical',
    description: 'Deployed precision: fp32, fp16, or int8 (static or dynamic, per-tensor or per-channel).',
  },
  {
    name: 'stageDepth',
    label: 'stage depth',
    kind: 'multiple',
    description:
      'Optional per-stage multipliers of C3 repeats (4 backbone stages, 4 neck blocks) on top of depthMultiple.',
  },
  {
    name: 'stageWidth',
    label: 'stage width',
    kind: 'multiple',
    description:
      'Optional per-stage multipliers of channels (4 backbone stages, 4 neck blocks) on top of widthMultiple: structured pruning as architecture.',
  },
  {
    name: 'numClasses',
    label: 'nc',
    kind: 'fixed',
    description: 'Classes the detector predicts; fixed by the dataset.',
  },
];
