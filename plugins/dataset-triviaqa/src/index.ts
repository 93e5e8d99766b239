import { defineDataset } from '@bayes-peft/core';
import { TriviaQaDataset } from './triviaqa-dataset';
import { TriviaQaOptions } from './options';

export { TriviaQaDataset } from './triviaqa-dataset';
export { TriviaQaOptions, TRIVIAQA_HUB_REPO, TRIVIAQA_DEFAULT_CONFIG } from './options';
export { TRIVIAQA_TEMPLATES, TRIVIAQA_NO_ANSWER, formatTriviaQaRow, type TriviaQaTemplate, type TriviaQaFormatOptions, type FormattedTriviaQa } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineDataset({
  name: 'triviaqa',
  task: 'open',
  version,
  packageName: pkg.name,
  description: "TriviaQA (mandarjoshi/trivia_qa, rc.nocontext) open-ended QA with the reference's prompt; references = the normalised answer and its aliases",
  options: TriviaQaOptions,
  create: ({ run }, options) => new TriviaQaDataset(options, run),
});
