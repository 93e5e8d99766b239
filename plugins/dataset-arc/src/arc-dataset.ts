import { Rng, TOKENS, type DatasetLoadContext, type McqDataset, type McqExample, type RunContext, type SplitRole } from '@bayes-peft/core';
import { loadSplit, selectSubset } from '@bayes-peft/data';
import { inject, injectable } from 'tsyringe';
import { ARC_LABELS, formatArcRow } from './format';
import { ARC_HUB_REPO, ARC_OPTIONS, type ArcOptions } from './options';

/** ARC-Challenge / ARC-Easy as the reference's mcdataset formats them (REFERENCE-SPEC 2.1). */
@injectable()
export class ArcDataset implements McqDataset {
  readonly kind = 'mcq' as const;
  readonly name: string;
  readonly labels: readonly string[];

  constructor(
    @inject(ARC_OPTIONS) private readonly options: ArcOptions,
    @inject(TOKENS.RunContext) private readonly ctx: RunContext,
  ) {
    this.name = options.subset;
    this.labels = ARC_LABELS.map((l) => (options.addSpace ? ` ${l}` : l));
  }

  async load(role: SplitRole, _ctx?: DatasetLoadContext): Promise<McqExample[]> {
    const { options, ctx } = this;
    const split = options.splits[role];
    const { rows, files } = await loadSplit(
      { source: options.source, repo: ARC_HUB_REPO, config: options.subset, split, baseDir: ctx.specDir },
      { ...ctx.hub, revision: options.revision, log: ctx.log },
    );
    // Every row is checked, also those a subset leaves out: a broken file fails early and loudly.
    const examples = rows.map((row) => formatArcRow(row, { swapChoiceFormat: options.compat.swapChoiceFormat }));
    const max = role === 'train' ? options.maxTrainExamples : role === 'test' ? options.maxTestExamples : options.maxAnchorExamples;
    // One shuffle per split name, so an anchor drawn from the train split is a prefix of the train subset.
    const picked = selectSubset(examples, { max, mode: options.subsetMode, rng: new Rng(options.subsetSeed).child(`arc/${split}`) });
    ctx.log.info(`dataset: ${options.subset} ${role} = split '${split}': ${picked.length} of ${examples.length} examples (${files.length === 1 ? files[0] : `${files.length} files`})`);
    return picked;
  }
}
