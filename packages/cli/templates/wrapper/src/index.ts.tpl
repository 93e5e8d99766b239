import { defineWrapper } from '@bayes-peft/lora';
import { {{className}}Options } from './options';
import { {{className}} } from './wrapper';

export * from './options';
export * from './wrapper';
export { smoothedNll } from './loss';

// One source for the version: package.json, which `changeset version` bumps.
const pkg = require('../package.json') as { name: string; version: string };

/**
 * What `bayes-peft experiment` loads when a spec says `wrapper: { plugin: {{packageName}} }`:
 * the wrapper's name, its options schema, and create(), which makes the run's wrapper from the
 * run context (seed, Rng, log), the spec's `lora:` section and the parsed options.
 */
export default defineWrapper({
  name: '{{name}}',
  version: pkg.version,
  packageName: pkg.name,
  description: '{{description}}',
  options: {{className}}Options,
  create: ({ run, lora, options }) => new {{className}}(run, lora, options),
});
