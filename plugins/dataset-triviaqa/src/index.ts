import { definePlugin, TOKENS } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { TriviaQaDataset } from './triviaqa-dataset';
import { TriviaQaOptions, TRIVIAQA_OPTIONS } from './options';

export { TriviaQaDataset } from './triviaqa-dataset';
export { TriviaQaOptions, TRIVIAQA_OPTIONS, TRIVIAQA_HUB_REPO, TRIVIAQA_DEFAULT_CONFIG } from './options';
export { TRIVIAQA_TEMPLATES, TRIVIAQA_NO_ANSWER, formatTriviaQaRow, type TriviaQaTemplate, type TriviaQaFormatOptions, type FormattedTriviaQa } from './format';

export const version = '0.1.0';

export default definePlugin({
  kind: 'dataset',
  name: 'triviaqa',
  version,
  packageName: '@bayes-peft/dataset-triviaqa',
  description: "TriviaQA (mandarjoshi/trivia_qa, rc.nocontext) open-ended QA with the reference's prompt; references = the normalised answer and its aliases",
  options: TriviaQaOptions,
  register(container, options) {
    container.register(TRIVIAQA_OPTIONS, { useValue: options });
    container.register(TOKENS.Dataset, { useClass: TriviaQaDataset }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
