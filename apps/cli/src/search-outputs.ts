import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { SearchOrchestrator, SearchView } from '@detsearch/orchestrator';
import { DEFAULT_LEADERBOARD_SORT, type Trial } from '@detsearch/persistence';
import { hypervolumeHistory, lineChartSvg, paretoScatterSvg, toCsv } from '@detsearch/report';

export interface SearchOutputs {
  dir: string;
  files: string[];
  models: string[];
}

const LEADERBOARD_COLUMNS = [
  'number',
  'id',
  'status',
  'feasible',
  'map50_95',
  'map50',
  'fp32Map50_95',
  'latencyMs',
  'measuredLatencyMs',
  'latencySource',
  'latencyProvenance',
  'params',
  'gflops',
  'sizeBytes',
  'epochsDone',
  'estimateMap50_95',
  'estimateMap50',
  'finetunedMap50_95',
  'finetunedMap50',
  'finetunedMap50_95Std',
  'finetunedMap50Std',
  'finetuneEpochs',
  'finetuneSeeds',
  'backend',
  'evaluator',
  'genomeKey',
  'genome',
  'error',
] as const;

export function genomeShortLabel(t: Pick<Trial, 'number' | 'genome'>): string {
  const g = t.genome;
  const q = g.quantization.precision;
  return `#${t.number} d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${q}${g.separable.length ? ' sep' : ''}`;
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
  orchestrator: SearchOrchestrator,
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
  write('pareto.json', `${JSON.stringify(front, null, 2)}\n`);
  write('pareto.csv', await orchestrator.paretoCsv(search.id));

  const onFront = new Set(front.points.map((p) => p.trialId));
  const surrogate = search.evaluator === 'surrogate';
  const subtitle = surrogate
    ? 'SURROGATE evaluator: analytic stand-in for tests and demos, not trained models'
    : `${search.strategy}, ${trials.length} trials, latency on profile ${search.hardwareProfile}`;
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
        highlighted: onFront.has(t.id),
        label: onFront.has(t.id) ? genomeShortLabel(t) : undefined,
      })),
    {
      title: `${search.name}: mAP@0.5:0.95 vs latency (${search.hardwareProfile})`,
      subtitle,
      xLabel: `latency on ${search.hardwareProfile} (ms)`,
      yLabel: 'mAP@0.5:0.95 (as deployed)',
    },
  );
  write('pareto.svg', scatter);
  write('pareto.png', svgToPng(scatter));
  const hv = lineChartSvg([{ name: 'hypervolume', points: hypervolumeHistory(trials).steps }], {
    title: `${search.name}: hypervolume vs completed trials`,
    subtitle: surrogate ? 'SURROGATE evaluator' : undefined,
    xLabel: 'completed trials',
    yLabel: 'hypervolume (mAP x latency, normalized)',
  });
  write('hypervolume.png', svgToPng(hv));

  const models: string[] = [];
  const modelDir = join(dir, 'models');
  for (const p of front.points) {
    const trial = trials.find((t) => t.id === p.trialId);
    if (!trial?.onnxPath || !existsSync(trial.onnxPath)) continue;
    mkdirSync(modelDir, { recursive: true });
    const target = join(modelDir, `trial-${trial.number}-${trial.genome.quantization.precision}.onnx`);
    copyFileSync(trial.onnxPath, target);
    models.push(target);
  }
  return { dir, files, models };
}
