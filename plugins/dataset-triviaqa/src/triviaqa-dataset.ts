import { UserError, type DatasetLoadContext, type OpenDataset, type OpenExample, type RunContext, type SplitRole } from '@bayes-peft/core';
import { loadSplit, subsetForRole } from '@bayes-peft/data';
import { formatTriviaQaRow } from './format';
import { TRIVIAQA_HUB_REPO, type TriviaQaOptions } from './options';

/** TriviaQA as the reference's oedataset formats it (docs/reference-differences.md rows 35-38); no chat template, as there. */
export class TriviaQaDataset implements OpenDataset {
  readonly kind = 'open' as const;
  readonly name = 'triviaqa';

  constructor(
    private readonly options: TriviaQaOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(role: SplitRole, _ctx?: DatasetLoadContext): Promise<OpenExample[]> {
    const { options, ctx } = this;
    const split = options.splits[role];
    if (split === 'test') {
      throw new UserError(
        `triviaqa: the '${role}' role reads split 'test', whose answers are all '<unk>' (TriviaQA's hidden test set); use 'validation' (splits.${role}: validation), as the reference's --testing-set val does`,
      );
    }
    const { rows, files } = await loadSplit(
      { source: options.source, repo: TRIVIAQA_HUB_REPO, config: options.config, split, baseDir: ctx.specDir },
      { ...ctx.hub, revision: options.revision, log: ctx.log },
    );
    // Every row is checked, also those a subset leaves out: a broken file fails early and loudly.
    const formatted = rows.map((row, i) => formatTriviaQaRow(row, { template: options.template, aliases: options.aliases, fallbackId: `${split}-${i}` }));
    const empty = formatted.filter((f) => f.emptyAnswer);
    if (empty.length) {
      ctx.log.warn(`triviaqa ${split}: ${empty.length} answer(s) normalise to '' (${empty.slice(0, 3).map((f) => f.example.id).join(', ')}${empty.length > 3 ? ', ...' : ''}); their first non-empty alias is the primary reference`);
    }
    const examples = formatted.map((f) => f.example);
    const picked = subsetForRole(examples, options, role, `triviaqa/${split}`);
    ctx.log.info(`dataset: triviaqa ${role} = split '${split}': ${picked.length} of ${examples.length} examples (${files.length === 1 ? files[0] : `${files.length} files`})`);
    return picked;
  }
}
