import type { Adapter, ForwardContext } from '@bayes-peft/core';
import type { LoraAdapter } from '@bayes-peft/lora';
import type { tf } from '@bayes-peft/tensor';

/**
 * One site's adapter for a whole ensemble: the LoRA of every member, of which the `active` one
 * acts (delta = s B_m A_m dropout(x), LoRA dropout only while training). The wrapper switches
 * `active` between members; a forward pass sees exactly one member.
 */
export class EnsembleAdapter implements Adapter {
  private current = 0;

  constructor(readonly members: readonly LoraAdapter[]) {
    if (members.length === 0) throw new Error('deep-ensemble: an ensemble adapter needs at least one member');
  }

  get active(): number {
    return this.current;
  }

  set active(m: number) {
    if (!Number.isInteger(m) || m < 0 || m >= this.members.length) {
      throw new Error(`deep-ensemble: member ${m} does not exist (0..${this.members.length - 1})`);
    }
    this.current = m;
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.members[this.current].delta(x, ctx);
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
