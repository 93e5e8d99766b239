import type { DatasetLoadContext, McqDataset, McqExample, RunContext, SplitRole } from '@bayes-peft/core';
import type { McqDefinition } from './definition';
import { targetLabels } from './labels';
import { loadMcqExamples } from './load';
import type { McqCommonOptions } from './options';

/** A multiple-choice dataset read split by split from local files or the hub. */
export class SplitMcqDataset implements McqDataset {
  readonly kind = 'mcq' as const;
  readonly name: string;
  readonly labels: readonly string[];

  constructor(
    readonly definition: McqDefinition,
    private readonly options: McqCommonOptions,
    private readonly ctx: RunContext,
  ) {
    this.name = definition.name;
    this.labels = targetLabels(definition.labels, options.addSpace);
  }

  load(role: SplitRole, _ctx?: DatasetLoadContext): Promise<McqExample[]> {
    return loadMcqExamples(this.definition, this.options, role, this.ctx);
  }
}
