import { z } from 'zod';

export const ToyOptions = z
  .object({
    trainSize: z.number().int().positive().default(512).describe('rows in the train split'),
    testSize: z.number().int().positive().default(128).describe('rows in the test split'),
    anchorSize: z.number().int().positive().default(128).describe('rows in the anchor split (methods such as TFB search on it)'),
    seed: z.number().int().nonnegative().default(0).describe('dataset seed, independent of the run seed: every run sees the same rows'),
    labelNoise: z
      .number()
      .min(0)
      .max(0.75)
      .default(0.1)
      .describe('fraction of rows (every split) whose label is a uniformly drawn wrong one; the best accuracy is about 1 - labelNoise'),
    shuffleChoices: z.boolean().default(false).describe('shuffle the four boxes in each question (a harder, two-step task)'),
    maxAdjectives: z.number().int().min(0).max(3).default(2).describe('most distracting adjectives before the object'),
    addSpace: z.boolean().default(false).describe("target tokens ' A'..' D' instead of 'A'..'D' (the reference's --add-space)"),
  })
  .strict();

export type ToyOptions = z.output<typeof ToyOptions>;
