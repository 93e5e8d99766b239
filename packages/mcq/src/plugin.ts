import { definePlugin, TOKENS, type Plugin } from '@bayes-peft/core';
import { instanceCachingFactory } from 'tsyringe';
import type { z } from 'zod';
import { SplitMcqDataset } from './dataset';
import type { McqDefinition } from './definition';
import type { McqCommonOptions } from './options';

export interface McqDatasetPluginSpec<S extends z.ZodType<McqCommonOptions>> {
  /** Short name a spec uses (`openbookqa`). */
  readonly name: string;
  readonly version: string;
  readonly packageName: string;
  readonly description: string;
  /** The plugin's option schema: `mcqOptionFields(...)` plus its own fields. */
  readonly options: S;
  /** The dataset the parsed options describe. */
  define(options: z.output<S>): McqDefinition;
}

/**
 * A dataset plugin over `SplitMcqDataset`: `register` binds TOKENS.Dataset in the run's container
 * to one dataset built from the parsed options and the run context.
 */
export function defineMcqDatasetPlugin<S extends z.ZodType<McqCommonOptions>>(spec: McqDatasetPluginSpec<S>): Plugin<S> {
  return definePlugin({
    kind: 'dataset',
    name: spec.name,
    version: spec.version,
    packageName: spec.packageName,
    description: spec.description,
    options: spec.options,
    register(container, options) {
      const definition = spec.define(options);
      container.register(TOKENS.Dataset, {
        useFactory: instanceCachingFactory((c) => new SplitMcqDataset(definition, options, c.resolve(TOKENS.RunContext))),
      });
    },
  });
}
