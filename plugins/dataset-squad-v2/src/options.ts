import { chatTemplateField, rowSourceFields, splitRoleFields, subsetFields } from '@bayes-peft/data';
import { z } from 'zod';

/** The hub dataset the reference loads (`load_dataset("squad_v2")`, today `rajpurkar/squad_v2`) and its one config. */
export const SQUAD_V2_HUB_REPO = 'rajpurkar/squad_v2';
export const SQUAD_V2_DEFAULT_CONFIG = 'squad_v2';

export const SquadV2Options = z
  .object({
    config: z.string().min(1).default(SQUAD_V2_DEFAULT_CONFIG).describe(`hub config of ${SQUAD_V2_HUB_REPO} (it has one, squad_v2)`),
    ...rowSourceFields({ repo: SQUAD_V2_HUB_REPO, layout: '<config>/<split>-*.parquet' }),
    ...splitRoleFields({ train: 'train', test: 'validation', anchor: 'train', note: "SQuAD v2 has no public test split; the reference's --testing-set val reads validation" }),
    ...chatTemplateField,
    aliases: z
      .boolean()
      .default(true)
      .describe("references = every normalised answer text, deduplicated (true), or only the first, as the reference scores (false); 'unanswerable' either way for a question without answers"),
    questions: z
      .enum(['all', 'answerable', 'unanswerable'])
      .default('all')
      .describe("which questions to keep, before max*Examples: 'all' (the reference), only those with an answer, or only the unanswerable ones"),
    ...subsetFields({ mode: 'first' }),
  })
  .strict();

export type SquadV2Options = z.output<typeof SquadV2Options>;
