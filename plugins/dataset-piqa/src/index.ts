import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { piqaDefinition } from './definition';
import { PiqaOptions } from './options';

export { piqaDefinition } from './definition';
export { PiqaOptions, PIQA_HUB_REPO } from './options';
export { PIQA_LABELS, PIQA_TEMPLATE, formatPiqaRow } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'piqa',
  version,
  packageName: pkg.name,
  description: "PIQA (ybisk/piqa) physical commonsense, two solutions A/B, in a prompt designed after the reference's ARC template",
  options: PiqaOptions,
  define: piqaDefinition,
});
