import { definePlugin, TOKENS } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { TemplateWrapperOptions, TEMPLATE_OPTIONS } from './options';
import { TemplateWrapper } from './wrapper';

export * from './options';
export * from './wrapper';
export { smoothedNll } from './loss';

// One source for the version: package.json, which `changeset version` bumps.
const pkg = require('../package.json') as { name: string; version: string };

/**
 * What `bayes-peft experiment` loads when a spec says `wrapper: { plugin: bayes-peft-wrapper-template }`:
 * the plugin's kind and name, its options schema, and register(), which binds the wrapper class
 * to TOKENS.Wrapper in the run's own container. The runner has bound TOKENS.RunContext and
 * TOKENS.LoraConfig there already; the wrapper's constructor asks for them.
 */
export default definePlugin({
  kind: 'wrapper',
  name: 'template',
  version: pkg.version,
  packageName: pkg.name,
  description: 'A bayes-peft wrapper plugin: template (plain LoRA to start from)',
  options: TemplateWrapperOptions,
  register(container, options) {
    container.register(TEMPLATE_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: TemplateWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
