import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { winograndeDefinition } from './definition';
import { WinograndeOptions } from './options';

export { winograndeDefinition } from './definition';
export { WinograndeOptions, WINOGRANDE_HUB_REPO, WINOGRANDE_SIZES, type WinograndeSize } from './options';
export { WINOGRANDE_LABELS, WINOGRANDE_TEMPLATE, formatWinograndeRow } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'winogrande',
  version,
  packageName: pkg.name,
  description: "WinoGrande (allenai/winogrande; sizes xs, s, m, l, xl, debiased) two-option fill-in-the-blank with the reference's prompt template, labels A/B",
  options: WinograndeOptions,
  define: winograndeDefinition,
});
