import { type Dataset, type Plugin, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';

/**
 * The dataset a dataset plugin makes from raw options (validated by its schema) in a run context
 * of one's own, outside a run: for tests, previews and scripts. The container is core's
 * `createRunSession` with the dataset alone (no LoRA config: nothing is adapted).
 */
export function instantiateDataset(plugin: Plugin, options: unknown, ctx: RunContext): Dataset {
  if (plugin.kind !== 'dataset') throw new Error(`'${plugin.name}' is a ${plugin.kind} plugin, not a dataset`);
  return createRunSession({ context: ctx, dataset: { plugin, options: plugin.options.parse(options ?? {}) } }).dataset();
}
