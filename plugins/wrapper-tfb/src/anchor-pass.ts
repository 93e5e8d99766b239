import { tf } from '@bayes-peft/tensor';
import { checkSamples, contextOfSample, trainObjective, type AnswerBatch, type Backbone, type SampleContext } from '@bayes-peft/core';
import { answerNllCriterion, argmax, changedClassRatio, changedTokenRatio, nllCriterion } from './tfb-math';

/**
 * What one pass over the anchor set at one beta gives the criterion (sample-averaged
 * probabilities): per example the class probabilities (multiple choice), or per answer token the
 * probability of the true next token and the argmax over the vocabulary (open-ended). Only these
 * few numbers per token come back to the host, never [tokens, V].
 */
export type AnchorPass =
  | { readonly kind: 'mcq'; readonly examples: number; readonly probs: number[][] }
  | { readonly kind: 'answer'; readonly examples: number; readonly targetProbs: number[]; readonly argmax: number[] };

export type AnchorCriterion = 'nll' | 'accuracy';

/**
 * The criterion of a sampled pass against the mean model's (beta = 0) pass of the same anchor
 * set (see tfb-math.ts): the multiple-choice rules against y0 = argmax p0, or their answer-token
 * analogues against the true answer tokens.
 */
export function anchorCriterion(criterion: AnchorCriterion, reference: AnchorPass, sampled: AnchorPass, divideBy = 1): number {
  if (reference.kind === 'mcq' && sampled.kind === 'mcq') {
    const y0 = reference.probs.map(argmax);
    return criterion === 'nll' ? nllCriterion(reference.probs, sampled.probs, y0, divideBy) : changedClassRatio(sampled.probs, y0);
  }
  if (reference.kind === 'answer' && sampled.kind === 'answer') {
    return criterion === 'nll' ? answerNllCriterion(reference.targetProbs, sampled.targetProbs, divideBy) : changedTokenRatio(sampled.argmax, reference.argmax);
  }
  throw new Error(`tfb: the anchor passes differ in kind (${reference.kind}, ${sampled.kind})`);
}

/**
 * An answer batch's share of an anchor pass: `samples` forwards over every position
 * (`output: 'all'`; the backbone's sampled forward reads only last-position columns), sample s
 * with `sampleContext(s)` as the sampled forward would give it, their softmax averaged at the
 * answer tokens. One pass is freed before the next, so at most one [B, T, V] is alive.
 */
export async function answerPass(
  backbone: Pick<Backbone, 'forward'>,
  batch: AnswerBatch,
  samples: number,
  sampleContext: SampleContext,
): Promise<{ targetProbs: number[]; argmax: number[] }> {
  checkSamples('tfb anchor pass', samples);
  const objective = trainObjective(backbone, batch);
  let sum: tf.Tensor2D | null = null;
  let labels: tf.Tensor1D | null = null;
  try {
    for (let s = 0; s < samples; s++) {
      const probs = tf.tidy(() => {
        const rows = objective.scored(objective.forward(contextOfSample(sampleContext, s)));
        labels ??= tf.keep(rows.labels);
        return tf.softmax(rows.logits) as tf.Tensor2D;
      });
      const next: tf.Tensor2D = sum ? tf.tidy(() => tf.add(sum!, probs) as tf.Tensor2D) : probs;
      if (sum) tf.dispose([sum, probs]);
      sum = next;
    }
  } catch (e) {
    if (sum) tf.dispose(sum);
    if (labels) tf.dispose(labels);
    throw e;
  }
  const [target, best] = tf.tidy(() => {
    const mean = tf.div(sum!, samples) as tf.Tensor2D;
    const onTarget = tf.sum(tf.mul(mean, tf.oneHot(labels!, mean.shape[1])), -1);
    return [onTarget, tf.argMax(mean, -1)];
  });
  tf.dispose([sum!, labels!]);
  const out = { targetProbs: Array.from(await target.data()), argmax: Array.from(await best.data(), Number) };
  tf.dispose([target, best]);
  return out;
}
