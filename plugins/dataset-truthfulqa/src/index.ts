import { defineDataset } from '@bayes-peft/core';
import { TruthfulQaDataset } from './truthfulqa-dataset';
import { TruthfulQaOptions } from './options';

export { TruthfulQaDataset } from './truthfulqa-dataset';
export { TruthfulQaOptions, TRUTHFULQA_HUB_REPO, TRUTHFULQA_CONFIG } from './options';
export { TRUTHFULQA_USER_MESSAGE, TRUTHFULQA_PLAIN_TEMPLATE, formatTruthfulQaRow, type TruthfulQaFormatOptions } from './format';
export { splitRows, partOf, type TruthfulQaPart } from './split';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineDataset({
  name: 'truthfulqa',
  task: 'open',
  version,
  packageName: pkg.name,
  description: "TruthfulQA (truthfulqa/truthful_qa, generation) open-ended QA: the reference's 80/20 split of validation, chat-templated or plain prompts, normalised correct and incorrect answers",
  options: TruthfulQaOptions,
  create: ({ run }, options) => new TruthfulQaDataset(options, run),
});
