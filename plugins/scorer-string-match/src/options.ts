import { z } from 'zod';

/** Token F1 a candidate needs in mode `f1` when `f1Threshold` is not given. */
export const F1_THRESHOLD_DEFAULT = 0.5;

export const StringMatchOptions = z
  .object({
    normalize: z
      .enum(['reference', 'squad'])
      .default('reference')
      .describe(
        "applied to the candidate and every reference alike: 'reference' = what the reference does to its references (normalize_answer, then its string match's own: delete every character that is not a letter, number, _ or space, collapse spaces); 'squad' = SQuAD/TriviaQA's official normalize_answer only (lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace), which keeps non-ASCII punctuation such as curly quotes",
      ),
    mode: z
      .enum(['contains', 'exact', 'f1'])
      .default('contains')
      .describe(
        "'contains' = the reference's rule: equal, the reference inside the candidate, or the candidate (longer than 3 characters) inside the reference; 'exact' = equal after normalisation (SQuAD's exact match); 'f1' = SQuAD's token F1 >= f1Threshold",
      ),
    f1Threshold: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe(`mode f1 only: the token F1 a candidate needs against its best reference (default ${F1_THRESHOLD_DEFAULT})`),
  })
  .strict()
  // A threshold given with another mode would be silently ignored; the spec's author meant mode f1.
  .refine((o) => o.f1Threshold === undefined || o.mode === 'f1', { message: 'f1Threshold applies to mode f1 only (set mode: f1)', path: ['f1Threshold'] });

export type StringMatchOptions = z.output<typeof StringMatchOptions>;
