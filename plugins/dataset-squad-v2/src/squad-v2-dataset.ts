import { type DatasetLoadContext, type OpenDataset, type OpenExample, type RunContext, type SplitRole } from '@bayes-peft/core';
import { chatTemplateFor, EmptySplitError, loadSplit, subsetForRole } from '@bayes-peft/data';
import { formatSquadV2Row } from './format';
import { SQUAD_V2_HUB_REPO, type SquadV2Options } from './options';

/** SQuAD v2 as the reference's oedataset formats it (docs/reference-differences.md rows 85-87). */
export class SquadV2Dataset implements OpenDataset {
  readonly kind = 'open' as const;
  readonly name = 'squad-v2';

  constructor(
    private readonly options: SquadV2Options,
    private readonly ctx: RunContext,
  ) {}

  async load(role: SplitRole, loadCtx?: DatasetLoadContext): Promise<OpenExample[]> {
    const { options, ctx } = this;
    const chat = chatTemplateFor(options.chatTemplate, loadCtx, 'squad-v2');
    const split = options.splits[role];
    const { rows, files } = await loadSplit(
      { source: options.source, repo: SQUAD_V2_HUB_REPO, config: options.config, split, baseDir: ctx.specDir },
      { ...ctx.hub, revision: options.revision, log: ctx.log },
    );
    // Every row is checked, also those a filter or subset leaves out: a broken file fails early and loudly.
    const formatted = rows.map((row, i) => formatSquadV2Row(row, { aliases: options.aliases, chat, fallbackId: `${split}-${i}` }));
    const empty = formatted.filter((f) => f.emptyAnswers);
    if (empty.length) {
      ctx.log.warn(`squad-v2 ${split}: ${empty.length} question(s) whose answers all normalise to '' (${empty.slice(0, 3).map((f) => f.example.id).join(', ')}${empty.length > 3 ? ', ...' : ''}) are scored as unanswerable`);
    }
    const answerable = formatted.filter((f) => f.answerable).length;
    const kept = options.questions === 'all' ? formatted : formatted.filter((f) => f.answerable === (options.questions === 'answerable'));
    if (!kept.length) throw new EmptySplitError(`the ${options.questions} questions of split '${split}' (${formatted.length} rows)`, files);
    const examples = kept.map((f) => f.example);
    const picked = subsetForRole(examples, options, role, `squad-v2/${split}`);
    ctx.log.info(
      `dataset: squad-v2 ${role} = split '${split}' (${answerable} answerable, ${formatted.length - answerable} unanswerable): ${picked.length} of ${examples.length} ${options.questions === 'all' ? '' : `${options.questions} `}examples, ${chat ? 'chat-templated' : 'plain'} prompts (${files.length === 1 ? files[0] : `${files.length} files`})`,
    );
    return picked;
  }
}
