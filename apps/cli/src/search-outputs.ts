import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { genomeLabel } from '@detsearch/genome';
import { DEFAULT_SYNTHETIC, type SearchView } from '@detsearch/orchestrator';
import type { SearchClient } from './search-client';
import { DEFAULT_LEADERBOARD_SORT, type Trial } from '@detsearch/persistence';
import {
  hypervolumeHistory,
  LEADERBOARD_COLUMNS,
  lineChartSvg,
  paretoScatterSvg,
  toCsv,
} from '@detsearch/report';

export interface SearchOutputs {
  dir: string;
  files: string[];
  models: string[];
  dataset: DatasetInfo;
}

/** What the trials trained and were scored on; repeated in pareto.json and README.txt. */
export interface DatasetInfo {
  synthetic: boolean;
  /** The data.yaml; null for the generated synthetic set. */
  path: string | null;
  note: string;
}

export const SYNTHETIC_DATASET_NOTE = `the generated synthetic shapes dataset (6 classes: circle, square, triangle, cross, ring, star; ${DEFAULT_SYNTHETIC.images} images at ${DEFAULT_SYNTHETIC.size} px)`;

const HYPERVOLUME_CAPTION = [
  'Hypervolume: area of the (latency, mAP@0.5:0.95) region the completed trials dominate, up to a reference point of',
  'mAP 0 and 1.1 x the slowest completed latency, divided by that latency. 1.0 would be mAP 1 at zero latency; it only grows.',
];

export function datasetInfo(search: Pick<SearchView, 'dataset' | 'evaluator'>): DatasetInfo {
  if (search.evaluator === 'surrogate')
    return {
      synthetic: true,
      path: null,
      note: 'no dataset: the surrogate evaluator computes its metrics from a formula (tests and demos)',
    };
  if (search.dataset) return { synthetic: false, path: search.dataset, note: `trained on ${search.dataset}` };
  return {
    synthetic: true,
    path: null,
    note: `trained and scored on ${SYNTHETIC_DATASET_NOTE}; pass --data path/to/data.yaml to search on your own data`,
  };
}

function readmeText(search: SearchView, dataset: DatasetInfo, models: number): string {
  return [
    `detsearch search ${search.id} (${search.name})`,
    `status ${search.status}; strategy ${search.strategy}; evaluator ${search.evaluator}; profile ${search.hardwareProfile}` +
      (search.constraints.maxLatencyMs !== undefined
        ? `; latency limit ${search.constraints.maxLatencyMs} ms`
        : ''),
    '',
    `DATASET: ${search.evaluator === 'surrogate' ? 'none. ' : dataset.synthetic ? 'SYNTHETIC. ' : ''}${dataset.note}.`,
    dataset.synthetic && search.evaluator !== 'surrogate'
      ? 'These mAPs measure the synthetic shapes, not a real task: run `detsearch search --data path/to/data.yaml` for yours.'
      : '',
    '',
    'leaderboard.csv   every trial: status, mAP@0.5:0.95 and @0.5 of the exported model as deployed, fp32 mAP,',
    '                  latency on the profile and measured on this host, params, GFLOPs, bytes, genome',
    'pareto.json/.csv  the non-dominated feasible trials (pareto.json also says which dataset)',
    'pareto.svg/.png   mAP vs latency: front in red and labelled, pruned trials hollow, infeasible ones as crosses,',
    '                  the latency limit as a dashed line',
    'hypervolume.png   hypervolume after each completed trial (see the caption)',
    `models/           ${models} ONNX models of the front, at their precision`,
    '',
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
}

export function genomeShortLabel(t: Pick<Trial, 'number' | 'genome'>): string {
  return `#${t.number} ${genomeLabel(t.genome)}`;
}

function svgToPng(svg: string): Buffer {
  return new Resvg(svg, {
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}

/**
 * Writes what a user takes away from a search: leaderboard.csv, pareto.json/.csv, pareto.svg/.png
 * (mAP vs latency, front highlighted and labelled), hypervolume.png, and the front's ONNX models.
 */
export async function writeSearchOutputs(
  orchestrator: Pick<SearchClient, 'listTrials' | 'pareto' | 'paretoCsv' | 'downloadModel'>,
  search: SearchView,
  dir: string,
): Promise<SearchOutputs> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    writeFileSync(join(dir, name), data);
    files.push(join(dir, name));
  };

  // The leaderboard's default order (feasible completed first), as the API and dashboard show it.
  const trials: Trial[] = [];
  for (let after: string | undefined; ;) {
    const page = await orchestrator.listTrials(search.id, {
      sort: DEFAULT_LEADERBOARD_SORT,
      limit: 500,
      after,
    });
    trials.push(...page.items);
    if (!page.nextCursor) break;
    after = page.nextCursor;
  }
  write('leaderboard.csv', toCsv(trials as unknown as Record<string, unknown>[], [...LEADERBOARD_COLUMNS]));

  const front = await orchestrator.pareto(search.id);
  const dataset = datasetInfo(search);
  write('pareto.json', `${JSON.stringify({ ...front, dataset }, null, 2)}\n`);
  write('pareto.csv', await orchestrator.paretoCsv(search.id));

  const onFront = new Set(front.points.map((p) => p.trialId));
  const surrogate = search.evaluator === 'surrogate';
  const limit = search.constraints.maxLatencyMs;
  const subtitle = surrogate
    ? 'SURROGATE evaluator: analytic stand-in for tests and demos, not trained models'
    : `${search.strategy}, ${trials.length} trials, latency on profile ${search.hardwareProfile}` +
      (dataset.synthetic ? '; SYNTHETIC shapes dataset' : '');
  const scatter = paretoScatterSvg(
    trials
      .filter(
        (t) =>
          (t.status === 'completed' || t.status === 'pruned') && t.map50_95 !== null && t.latencyMs !== null,
      )
      .map((t) => ({
        x: t.latencyMs!,
        y: t.map50_95!,
        muted: t.status === 'pruned',
        infeasible: (t.violation ?? 0) > 0 || (limit !== undefined && t.latencyMs! > limit),
        highlighted: onFront.has(t.id),
        label: onFront.has(t.id) ? genomeShortLabel(t) : undefined,
      })),
    {
      title: `${search.name}: mAP@0.5:0.95 vs latency (${search.hardwareProfile})`,
      subtitle,
      xLabel: `latency on ${search.hardwareProfile} (ms)`,
      yLabel: 'mAP@0.5:0.95 (as deployed)',
      ...(limit !== undefined ? { xLimit: { value: limit, label: `latency limit ${limit} ms` } } : {}),
    },
  );
  write('pareto.svg', scatter);
  write('pareto.png', svgToPng(scatter));
  const hv = lineChartSvg([{ name: 'hypervolume', points: hypervolumeHistory(trials).steps }], {
    title: `${search.name}: hypervolume vs completed trials`,
    subtitle: surrogate ? 'SURROGATE evaluator' : dataset.synthetic ? 'SYNTHETIC shapes dataset' : undefined,
    xLabel: 'completed trials',
    yLabel: 'hypervolume (normalized, see below)',
    integerX: true,
    caption: HYPERVOLUME_CAPTION,
  });
  write('hypervolume.png', svgToPng(hv));

  const models: string[] = [];
  const modelDir = join(dir, 'models');
  for (const p of front.points) {
    const trial = trials.find((t) => t.id === p.trialId);
    if (!trial || (!trial.modelKey && !trial.onnxPath)) continue;
    mkdirSync(modelDir, { recursive: true });
    const target = join(modelDir, `trial-${trial.number}-${trial.genome.quantization.precision}.onnx`);
    if (await orchestrator.downloadModel(trial.id, target)) models.push(target);
  }
  write('README.txt', readmeText(search, dataset, models.length));
  return { dir, files, models, dataset };
}
