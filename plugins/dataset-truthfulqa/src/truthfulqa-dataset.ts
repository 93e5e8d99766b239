import { type DatasetLoadContext, type OpenDataset, type OpenExample, type RunContext, type SplitRole } from '@bayes-peft/core';
import { chatTemplateFor, EmptySplitError, loadSplit, subsetForRole } from '@bayes-peft/data';
import { formatTruthfulQaRow } from './format';
import { TRUTHFULQA_CONFIG, TRUTHFULQA_HUB_REPO, type TruthfulQaOptions } from './options';
import { partOf, splitRows } from './split';

/** TruthfulQA (generation) as the reference's oedataset formats it (docs/reference-differences.md rows 35-43). */
export class TruthfulQaDataset implements OpenDataset {
  readonly kind = 'open' as const;
  readonly name = 'truthfulqa';

  constructor(
    private readonly options: TruthfulQaOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(role: SplitRole, loadCtx?: DatasetLoadContext): Promise<OpenExample[]> {
    const { options, ctx } = this;
    const chat = chatTemplateFor(options.chatTemplate, loadCtx, 'truthfulqa');
    const { rows, files } = await loadSplit(
      { source: options.source, repo: TRUTHFULQA_HUB_REPO, config: TRUTHFULQA_CONFIG, split: options.split, baseDir: ctx.specDir },
      { ...ctx.hub, revision: options.revision, log: ctx.log },
    );
    // Every row is checked, also those of the other part: a broken file fails early and loudly.
    const all = rows.map((row, i) => formatTruthfulQaRow(row, { primaryReference: options.primaryReference, chat, fallbackId: `truthfulqa-${i}` }));
    const part = partOf(role);
    const examples = splitRows(all, options.trainFraction, part);
    if (!examples.length) throw new EmptySplitError(`the ${part} part (trainFraction ${options.trainFraction}) of split '${options.split}' (${all.length} rows)`, files);
    const picked = subsetForRole(examples, options, role, `truthfulqa/${part}`);
    ctx.log.info(
      `dataset: truthfulqa ${role} = the ${part} part of split '${options.split}' (${examples.length} of ${all.length} rows): ${picked.length} examples, ${chat ? 'chat-templated' : 'plain'} prompts (${files.length === 1 ? files[0] : `${files.length} files`})`,
    );
    return picked;
  }
}
