import { defineJudge } from '@bayes-peft/core';
import { StringMatchOptions } from './options';
import { createStringMatchJudge } from './string-match-judge';

export { StringMatchOptions, F1_THRESHOLD_DEFAULT } from './options';
export { stringMatchVerdict, createStringMatchJudge } from './string-match-judge';
export { containmentMatch, tokenF1, type ContainmentMatch } from './match';
export { normalizeReferenceStyle, normalizeSquad, NORMALIZERS, type Normalization } from './normalize';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineJudge({
  name: 'string-match',
  version,
  packageName: pkg.name,
  description: "the reference's string match (equal or contained after normalisation) with one normalisation on both sides and every alias accepted; exact and token-F1 modes",
  options: StringMatchOptions,
  create: (_ctx, options) => createStringMatchJudge(options),
});
