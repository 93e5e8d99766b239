import { type PluginKind } from '@bayes-peft/core';
import { PluginRegistry } from '@bayes-peft/runner';
import { CLI_SEARCH_PATHS } from './search-paths';

/**
 * Short names a spec may use for the plugins this project publishes (each a dependency of this
 * package, so it resolves from CLI_SEARCH_PATHS). Core's PluginRegistry takes this map.
 */
export const BUILTIN_PLUGINS: Record<PluginKind, Record<string, string>> = {
  backbone: { 'causal-lm': '@bayes-peft/backbone-causal-lm' },
  wrapper: {
    mle: '@bayes-peft/wrapper-mle',
    blob: '@bayes-peft/wrapper-blob',
    map: '@bayes-peft/wrapper-map',
    'mc-dropout': '@bayes-peft/wrapper-mc-dropout',
    'deep-ensemble': '@bayes-peft/wrapper-deep-ensemble',
    'blob-laplace': '@bayes-peft/wrapper-blob-laplace',
    tfb: '@bayes-peft/wrapper-tfb',
    'zero-shot-bayes': '@bayes-peft/wrapper-zero-shot',
  },
  dataset: {
    arc: '@bayes-peft/dataset-arc',
    toy: '@bayes-peft/dataset-toy',
    openbookqa: '@bayes-peft/dataset-openbookqa',
    piqa: '@bayes-peft/dataset-piqa',
    winogrande: '@bayes-peft/dataset-winogrande',
    hellaswag: '@bayes-peft/dataset-hellaswag',
    boolq: '@bayes-peft/dataset-boolq',
    commonsenseqa: '@bayes-peft/dataset-commonsenseqa',
    mmlu: '@bayes-peft/dataset-mmlu',
    triviaqa: '@bayes-peft/dataset-triviaqa',
    truthfulqa: '@bayes-peft/dataset-truthfulqa',
    'squad-v2': '@bayes-peft/dataset-squad-v2',
  },
  judge: {
    'string-match': '@bayes-peft/scorer-string-match',
    'llm-judge': '@bayes-peft/scorer-llm-judge',
    nli: '@bayes-peft/scorer-nli',
  },
};

/** The CLI's registry: the built-in short names, packages from the working directory, then from the CLI's own installation. */
export function cliPluginRegistry(): PluginRegistry {
  return new PluginRegistry([process.cwd(), ...CLI_SEARCH_PATHS], BUILTIN_PLUGINS);
}
