import { TOKENS, type Dataset, type Plugin, type RunContext } from '@bayes-peft/core';
import { container as rootContainer } from 'tsyringe';

/**
 * The dataset a dataset plugin makes from raw options (validated by its schema) in a run context
 * of one's own, outside a run: for tests, previews and scripts.
 */
export function instantiateDataset(plugin: Plugin, options: unknown, ctx: RunContext): Dataset {
  if (plugin.kind !== 'dataset') throw new Error(`'${plugin.name}' is a ${plugin.kind} plugin, not a dataset`);
  const child = rootContainer.createChildContainer();
  child.register(TOKENS.RunContext, { useValue: ctx });
  plugin.register(child, plugin.options.parse(options ?? {}));
  return child.resolve(TOKENS.Dataset);
}
