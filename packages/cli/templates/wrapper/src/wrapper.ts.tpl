import { LoraWrapper, tf, type EvalPhase } from '@bayes-peft/lora';
import { smoothedNll } from './loss';
import type { {{className}}Options } from './options';

/**
 * Plain LoRA trained by maximum likelihood (with optional label smoothing): the starting point
 * for a new method. `LoraWrapper` (from @bayes-peft/lora) runs the lifecycle the runner drives,
 *
 *   attach(backbone) -> [load(adapter)] -> prepare(plan) -> trainStep(batch, step) x T
 *     -> predict(batch, { phase }) / generate(...) -> save(dir) at checkpoints -> dispose()
 *
 * with the plan's optimizer and schedule, the training step (forward, loss, gradients, a
 * non-finite check, the update), S-sample prediction, PEFT save/load and resume state. A
 * method states only its maths, by overriding the hooks below:
 *
 * - `createAdapter(lora, site)`: the adapter put on each target layer (default: the LoRA
 *   itself; a Bayesian method wraps it in one that samples, e.g. a mean and a scale per weight);
 * - `dataLoss(logits, labels)` and `extraLoss(vars)`: the loss on the batch's scored rows (a row
 *   of class logits per multiple-choice example, or of vocabulary logits per answer token of an
 *   open-ended one: core's trainObjective picks them), and terms added to it by name (a KL or a
 *   prior); both are reported in metrics.jsonl;
 * - `samples(phase)`: weight samples per prediction ([batch, S, classes]); the runner combines
 *   them by `averaging` ('probs', or 'logits'); `fixDraws` keeps a draw per generated sequence;
 * - `peftTensors()` / `restore(files)`: extra tensors saved beside lora_A and lora_B.
 *
 * Rules every method keeps (the conformance test checks them): every tensor a step makes is
 * freed (tf.tidy); every random draw comes from the run's Rng, so one seed gives one result and
 * a resumed run continues bit for bit. Adapters draw from their forward context's `ctx.rng`
 * (LoraWrapper gives step k the stream `train/<k>` and each predict call its own); a wrapper
 * names a step's stream by the step (`this.rng.child(`train/${step}`)`) and takes a call's with
 * `this.rng.nextChild('<label>')`, never drawing from one Rng across steps or calls. tf comes
 * from one package only.
 */
export class {{className}} extends LoraWrapper<{{className}}Options> {
  readonly name = '{{name}}';

  /** The training loss on the batch's scored rows (class logits, or answer tokens' vocabulary logits): smoothed NLL. */
  protected override dataLoss(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
    return smoothedNll(logits, labels, this.options.labelSmoothing);
  }

  /** No extra term here; a Bayesian method returns e.g. `{ kl: ... }` (a scalar tensor). */
  protected override extraLoss(_vars: tf.Variable[]): Record<string, tf.Scalar> {
    return {};
  }

  /** One deterministic pass per prediction; a sampling method returns S (e.g. from its options). */
  protected override samples(_phase: EvalPhase): number {
    return 1;
  }
}
