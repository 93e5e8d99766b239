import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { mmluDefinition } from './definition';
import { MmluOptions } from './options';

export { mmluDefinition } from './definition';
export { MmluOptions, MMLU_HUB_REPO, selectedSubjects } from './options';
export { MMLU_LABELS, MMLU_TEMPLATE, formatMmluRow } from './format';
export { MMLU_SUBJECTS, MMLU_GROUPS, MMLU_GROUP_NAMES, type MmluSubject, type MmluGroup } from './subjects';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'mmlu',
  version,
  packageName: pkg.name,
  description: "MMLU subject groups (cs, eng, law, health, chem, bio, phy) or a subject list from cais/mmlu 'all', four choices A-D with the reference's template, for out-of-distribution evaluation",
  options: MmluOptions,
  define: mmluDefinition,
});
