import type { DatasetLoadContext, McqDataset, McqExample, SplitRole } from '@bayes-peft/core';
import { generateToyRows, TOY_LABELS } from './generate';
import type { ToyOptions } from './options';

/** The generated "which box" task behind the quickstart; no files, no network. */
export class ToyDataset implements McqDataset {
  readonly kind = 'mcq' as const;
  readonly name = 'toy';
  readonly labels: readonly string[];

  constructor(private readonly options: ToyOptions) {
    this.labels = TOY_LABELS.map((l) => (options.addSpace ? ` ${l}` : l));
  }

  async load(role: SplitRole, _ctx?: DatasetLoadContext): Promise<McqExample[]> {
    const size = role === 'train' ? this.options.trainSize : role === 'test' ? this.options.testSize : this.options.anchorSize;
    return generateToyRows(role, size, this.options).map(({ id, prompt, label }) => ({ id, prompt, label }));
  }
}
