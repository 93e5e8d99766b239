import { defineWrapper } from '@bayes-peft/lora';
import { TemplateWrapperOptions } from './options';
import { TemplateWrapper } from './wrapper';

export * from './options';
export * from './wrapper';
export { smoothedNll } from './loss';

// One source for the version: package.json, which `changeset version` bumps.
const pkg = require('../package.json') as { name: string; version: string };

/**
 * What `bayes-peft experiment` loads when a spec says `wrapper: { plugin: bayes-peft-wrapper-template }`:
 * the wrapper's name, its options schema, and create(), which makes the run's wrapper from the
 * run context (seed, Rng, log), the spec's `lora:` section and the parsed options.
 */
export default defineWrapper({
  name: 'template',
  version: pkg.version,
  packageName: pkg.name,
  description: 'A bayes-peft wrapper plugin: template (plain LoRA to start from)',
  options: TemplateWrapperOptions,
  create: ({ run, lora, options }) => new TemplateWrapper(run, lora, options),
});
