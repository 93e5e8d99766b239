import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { winograndeDefinition } from './definition';
import { WinograndeOptions } from './options';

export { winograndeDefinition } from './definition';
export { WinograndeOptions, WINOGRANDE_HUB_REPO, WINOGRANDE_SIZES, type WinograndeSize } from './options';
export { WINOGRANDE_LABELS, WINOGRANDE_TEMPLATE, formatWinograndeRow } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'winogrande',
  version,
  packageName: '@bayes-peft/dataset-winogrande',
  description: "WinoGrande (allenai/winogrande; sizes xs, s, m, l, xl, debiased) two-option fill-in-the-blank with the reference's prompt template, labels A/B",
  options: WinograndeOptions,
  define: winograndeDefinition,
});
