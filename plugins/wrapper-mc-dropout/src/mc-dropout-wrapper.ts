import { UserError, type EvalPhase, type LoraConfig, type Rng, type RunContext } from '@bayes-peft/core';
import { LoraWrapper, type LoraAdapter, type PointLoraTrainingState } from '@bayes-peft/lora';
import { McDropoutAdapter } from './mc-dropout-adapter';
import type { McDropoutOptions } from './options';

/** Optimizer state of an MC dropout run, for resuming (not part of the PEFT adapter). */
export type McDropoutTrainingState = PointLoraTrainingState;

/**
 * MC dropout (docs/methods.md, 'MC dropout'): LoRA trained with dropout on its input, the dropout kept on
 * at evaluation; `predict` returns S passes (evalSamples / evalSamplesFinal), each with fresh
 * masks from its own stream, and the runner averages their probabilities; a generation keeps one
 * mask per site for its whole sequence. The maths is in dropout-math.ts; the lifecycle is
 * @bayes-peft/lora's LoraWrapper.
 */
export class McDropoutWrapper extends LoraWrapper<McDropoutOptions, McDropoutAdapter> {
  readonly name = 'mc-dropout';
  protected override readonly passStream = 'sample';

  constructor(run: RunContext, lora: LoraConfig, options: McDropoutOptions) {
    super(run, withDropout(lora, options.dropout), options);
  }

  /** The LoRA config the adapters are built with: the run's, with this wrapper's dropout. */
  get loraConfig(): LoraConfig {
    return this.lora;
  }

  protected override createAdapter(lora: LoraAdapter): McDropoutAdapter {
    return new McDropoutAdapter(lora, this.options.dropout);
  }

  protected override samples(phase: EvalPhase): number {
    return phase === 'final' ? this.options.evalSamplesFinal : this.options.evalSamples;
  }

  protected override fixDraws(draws: readonly ((site: string) => Rng)[], batchSize: number): void {
    for (const [name, layer] of this.layers) layer.fixMasks(batchSize, draws.map((d) => d(name)));
  }

  protected override releaseDraws(): void {
    for (const layer of this.layers.values()) layer.releaseMask();
  }

  protected override foreignAdapterNote(): string {
    return `loading its LoRA (A, B) and sampling it with dropout ${this.options.dropout}`;
  }
}

/** The run's LoRA config with MC dropout's rate, refusing a rate that samples nothing or a conflicting lora.dropout. */
function withDropout(lora: LoraConfig, p: number): LoraConfig {
  if (!(p > 0 && p < 1)) {
    throw new UserError(`mc-dropout: wrapper.options.dropout must be in (0, 1), got ${p}; with 0 every pass is the same and there is nothing to sample`);
  }
  if (lora.dropout !== 0 && lora.dropout !== p) {
    throw new UserError(
      `mc-dropout: lora.dropout ${lora.dropout} conflicts with the wrapper's dropout ${p}. MC dropout sets the LoRA dropout itself ` +
        `(wrapper.options.dropout, default 0.1): leave lora.dropout at 0 or make it equal`,
    );
  }
  return { ...lora, dropout: p };
}
