import { defineDataset, type Plugin } from '@bayes-peft/core';
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
 * A dataset plugin over `SplitMcqDataset`, made with core's `defineDataset`: one dataset per run,
 * built from the parsed options and the run context.
 */
export function defineMcqDatasetPlugin<S extends z.ZodType<McqCommonOptions>>(spec: McqDatasetPluginSpec<S>): Plugin<S> {
  return defineDataset({
    name: spec.name,
    task: 'mcq',
    version: spec.version,
    packageName: spec.packageName,
    description: spec.description,
    options: spec.options,
    create: ({ run }, options) => new SplitMcqDataset(spec.define(options), options, run),
  });
}
