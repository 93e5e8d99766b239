import type { RunContext } from '@bayes-peft/core';
import { SplitMcqDataset, type McqDefinition } from '@bayes-peft/mcq';
import { ARC_LABELS, formatArcRow } from './format';
import { ARC_HUB_REPO, type ArcOptions } from './options';

/** ARC-Challenge / ARC-Easy as the reference's mcdataset formats them (docs/reference-differences.md row 13). */
export function arcDefinition(options: ArcOptions): McqDefinition {
  return {
    name: options.subset,
    labels: ARC_LABELS,
    repo: ARC_HUB_REPO,
    config: options.subset,
    subsetKey: 'arc',
    format: (row) => formatArcRow(row, { swapChoiceFormat: options.compat.swapChoiceFormat }),
  };
}

/** The ARC dataset of some options, outside a run's container. */
export class ArcDataset extends SplitMcqDataset {
  constructor(options: ArcOptions, ctx: RunContext) {
    super(arcDefinition(options), options, ctx);
  }
}
