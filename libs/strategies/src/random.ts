import type { Params } from '@detsearch/search-space';
import { seenPoints } from './history';
import { Rng } from './rng';
import { decode, ensureNew, sampleGenes } from './space';
import type { AskInput, Strategy } from './types';

/** Uniform sampling over the space: the baseline every other strategy must beat. */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  readonly defaultBatch = 1;

  ask(input: AskInput, n: number): Params[] {
    const rng = Rng.forAsk(input.seed, this.name, input.history.length);
    const seen = seenPoints(input.space, input.history);
    const out: Params[] = [];
    for (let i = 0; i < n; i++) {
      const genes = ensureNew(
        input.space,
        seen,
        sampleGenes(input.space, rng),
        () => sampleGenes(input.space, rng),
        rng,
      );
      seen.addGenes(genes);
      out.push(decode(input.space, genes));
    }
    return out;
  }
}
