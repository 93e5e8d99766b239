/**
 * Deep ensembles of LoRA adapters (docs/methods.md, 'Deep ensemble'; Lakshminarayanan et al. 2017), the maths.
 *
 * Members m = 0..n-1 each hold their own LoRA (A_m, B_m) on every target site, initialised from
 * their own random stream (PEFT's init: A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0) and trained on the
 * same batches by their own optimizer and schedule:
 *
 *     theta_m <- Opt_m(theta_m, grad NLL_batch(theta_m), lr_t)
 *
 * Members never share parameters, so the order of their steps does not matter. The logged loss is
 * the mean over members of their batch NLL. At prediction each member gives logits z_m (one
 * deterministic pass, [B, n, C] stacked) and the ensemble's predictive distribution is
 *
 *     'probs'  (default):   p = (1/n) Σ_m softmax(z_m)         a mixture of the members
 *     'logits' (reference): p = softmax((1/n) Σ_m z_m)         a geometric-mean-like pool
 *
 * The runner applies the rule through core's `combineSamples` with the wrapper's `averaging`;
 * `ensemblePredictive` is the same computation on device, for callers that want it there.
 */
import { tf } from '@bayes-peft/tensor';
import type { AveragingRule, Rng } from '@bayes-peft/core';

/**
 * The random stream of member m's LoRA initialisation. Member 0 is PEFT's "default" adapter and
 * draws from the run's `lora` stream itself, as an MLE/MAP/BLoB run of the same seed does (so it
 * starts from the same A); member m >= 1 draws from `lora/member-m`.
 */
export function memberInitRng(loraRng: Rng, member: number): Rng {
  return member === 0 ? loraRng : loraRng.child(`member-${member}`);
}

/** The combined class probabilities [B, C] of members' logits [B, n, C] under `rule`. */
export function ensemblePredictive(logits: tf.Tensor3D, rule: AveragingRule): tf.Tensor2D {
  return tf.tidy(() => (rule === 'logits' ? tf.softmax(tf.mean(logits, 1)) : tf.mean(tf.softmax(logits), 1)) as tf.Tensor2D);
}
