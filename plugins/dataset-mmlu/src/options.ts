import { mcqOptionFields } from '@bayes-peft/mcq';
import { z } from 'zod';
import { MMLU_LABELS } from './format';
import { MMLU_GROUP_NAMES, MMLU_GROUPS, MMLU_SUBJECTS } from './subjects';

/** The hub dataset the reference loads (`load_dataset("cais/mmlu", "all")`). */
export const MMLU_HUB_REPO = 'cais/mmlu';

const groupList = MMLU_GROUP_NAMES.map((g) => `${g} = ${MMLU_GROUPS[g].join(', ')}`).join('; ');

export const MmluOptions = z
  .object({
    group: z.enum(MMLU_GROUP_NAMES).optional().describe(`the reference's subject group MMLU-<group>: ${groupList}`),
    subjects: z
      .array(
        z
          .string()
          .refine((s) => (MMLU_SUBJECTS as readonly string[]).includes(s), { error: (issue) => `not a cais/mmlu subject: ${JSON.stringify(issue.input)} (the 57 subjects are MMLU_SUBJECTS of @bayes-peft/dataset-mmlu, e.g. college_physics)` }),
      )
      .min(1)
      .optional()
      .describe('an explicit list of cais/mmlu subjects (its subject field, e.g. [astronomy, virology]) instead of group'),
    config: z.string().min(1).default('all').describe("hub config of cais/mmlu whose rows are filtered by subject (the reference's 'all')"),
    ...mcqOptionFields({
      repo: MMLU_HUB_REPO,
      layout: '<config>/<split>-*.parquet',
      splits: { train: 'test', test: 'test', anchor: 'test', note: "the reference trains (if asked to) and evaluates on the filtered test split; MMLU serves as out-of-distribution evaluation" },
      labels: MMLU_LABELS,
    }),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.group === undefined && o.subjects === undefined) {
      ctx.addIssue({ code: 'custom', path: ['group'], message: `choose a subject group (${MMLU_GROUP_NAMES.join(', ')}) or give a subjects list` });
    }
    if (o.group !== undefined && o.subjects !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['subjects'], message: 'give either group or subjects, not both' });
    }
  });

export type MmluOptions = z.output<typeof MmluOptions>;

/** The subjects the options select. */
export function selectedSubjects(options: MmluOptions): readonly string[] {
  return options.subjects ?? MMLU_GROUPS[options.group!];
}
