import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, Rng } from '@bayes-peft/core';
import type { LoraAdapter } from '@bayes-peft/lora';
import { applySequenceMask, invertedDropout, sequenceKeepMask } from './dropout-math';

/**
 * LoRA with MC dropout on its input: delta(x) = s B A dropout(x), the dropout active in every
 * forward call, training or not (that is the method). While a per-sequence mask is fixed
 * (`fixMask`, for generation) it replaces the per-element draws.
 */
export class McDropoutAdapter implements Adapter {
  private fixed: tf.Tensor2D | null = null;

  constructor(
    readonly lora: LoraAdapter,
    /** Dropout rate p in [0, 1) (the wrapper insists on p > 0; 0 is allowed here for tests). */
    readonly rate: number,
  ) {
    if (!(rate >= 0 && rate < 1)) throw new Error(`mc-dropout: the dropout rate must be in [0, 1), got ${rate}`);
  }

  /** The adapter's input after dropout: the fixed per-sequence mask if one is set, else fresh per-element draws from ctx.rng. */
  dropInput(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.fixed ? applySequenceMask(x, this.fixed) : invertedDropout(x, this.rate, ctx.rng);
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.lora.up(this.lora.down(this.dropInput(x, ctx)));
  }

  /** Fixes one mask per sequence of a batch of `batch` rows until `releaseMask`. */
  fixMask(batch: number, rng: Rng): void {
    this.releaseMask();
    this.fixed = tf.keep(sequenceKeepMask(batch, this.lora.site.inFeatures, this.rate, rng));
  }

  releaseMask(): void {
    this.fixed?.dispose();
    this.fixed = null;
  }

  /** The fixed per-sequence mask [B, in], if any (for inspection and tests). */
  get mask(): tf.Tensor2D | null {
    return this.fixed;
  }

  variables(): tf.Variable[] {
    return this.lora.variables();
  }

  dispose(): void {
    this.releaseMask();
    this.lora.dispose();
  }
}
