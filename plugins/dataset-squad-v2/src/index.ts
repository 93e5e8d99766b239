import { defineDataset } from '@bayes-peft/core';
import { SquadV2Dataset } from './squad-v2-dataset';
import { SquadV2Options } from './options';

export { SquadV2Dataset } from './squad-v2-dataset';
export { SquadV2Options, SQUAD_V2_HUB_REPO, SQUAD_V2_DEFAULT_CONFIG } from './options';
export { SQUAD_V2_UNANSWERABLE, SQUAD_V2_USER_MESSAGE, SQUAD_V2_PLAIN_TEMPLATE, formatSquadV2Row, type SquadV2FormatOptions, type FormattedSquadV2 } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineDataset({
  name: 'squad-v2',
  task: 'open',
  version,
  packageName: pkg.name,
  description: "SQuAD v2 (rajpurkar/squad_v2) open-ended QA over a context, with the reference's chat-templated or plain prompts; references = the normalised answers, or 'unanswerable'",
  options: SquadV2Options,
  create: ({ run }, options) => new SquadV2Dataset(options, run),
});
