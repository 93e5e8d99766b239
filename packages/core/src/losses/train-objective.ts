import { tf } from '@bayes-peft/tensor';
import type { Backbone, ForwardContext } from '../contracts/backbone';
import type { AnswerBatch, McqBatch, TrainBatch } from '../contracts/wrapper';
import { classAccuracy, classNll } from './class-nll';

/** The rows a loss scores and their labels: class logits per example, or vocabulary logits per answer token. */
export interface ScoredRows {
  /** [N, K]: the batch's class logits (N = B, K = C) or its scored positions' logits (N answer tokens, K = V). */
  readonly logits: tf.Tensor2D;
  /** int32 [N]: the class, or the next token. */
  readonly labels: tf.Tensor1D;
}

/**
 * The training objective of one batch, whatever its kind, so every wrapper trains on
 * multiple-choice and open-ended data with one code path (docs/methods.md, 'Training
 * objectives'). `forward` is one pass of the backbone; outputs of several passes (weight
 * samples) have one shape per kind and may be averaged before scoring. Every method returns
 * tensors the caller owns (call inside a tf.tidy); the objective itself holds no tensor.
 */
export interface TrainObjective {
  readonly kind: 'mcq' | 'answer';
  /** Rows scored per batch: B examples, or the answer tokens of all B texts. */
  readonly rows: number;
  /** Class logits [B, C] at the last position (mcq), or the logits of every position [B, T, V] (answer). */
  forward(ctx: ForwardContext): tf.Tensor;
  /** The scored rows of a forward's output: selected before any softmax, so the log-softmax is over N rows, not B x T. */
  scored(output: tf.Tensor): ScoredRows;
  /** Mean over the scored rows of -log softmax(row)[label]: the class NLL, or the token-weighted answer NLL. */
  nll(output: tf.Tensor): tf.Scalar;
  /** Share of scored rows whose argmax is the label (reads one number back). */
  accuracy(output: tf.Tensor): number;
}

/**
 * The objective of `batch` on `backbone`:
 *
 * - multiple choice: the class token logits at the last position, `classNll` (the reference's
 *   `nll_loss(log_softmax(logits[:, -1, target_ids]), labels)`);
 * - answer: next-token NLL over every scored position of the batch,
 *
 *       nll = sum_{b,t} w_bt * -log softmax(z_bt)[y_bt] / sum_{b,t} w_bt,
 *
 *   the mean over all answer tokens of the batch (Hugging Face's cross-entropy with -100 labels:
 *   a long answer weighs more than a short one), with y = `targets` and w = `weights` (0 or 1).
 */
export function trainObjective(backbone: Pick<Backbone, 'forward'>, batch: TrainBatch): TrainObjective {
  return batch.kind === 'answer' ? answerObjective(backbone, batch) : mcqObjective(backbone, batch);
}

function mcqObjective(backbone: Pick<Backbone, 'forward'>, batch: McqBatch): TrainObjective {
  // The output is the class logits themselves: no gather, so the numbers are the ones classNll always gave.
  const scored = (output: tf.Tensor): ScoredRows => ({ logits: output as tf.Tensor2D, labels: batch.labels });
  return {
    kind: 'mcq',
    rows: batch.labels.shape[0],
    forward: (ctx) => backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx }),
    scored,
    nll: (output) => classNll(output, batch.labels),
    accuracy: (output) => classAccuracy(output, batch.labels),
  };
}

function answerObjective(backbone: Pick<Backbone, 'forward'>, batch: AnswerBatch): TrainObjective {
  const { runs, labels } = scoredRuns(batch);
  const scored = (output: tf.Tensor): ScoredRows => {
    const [B, T] = batch.targets.shape;
    if (output.rank !== 3 || output.shape[0] !== B || output.shape[1] !== T) {
      throw new Error(`answer objective: the forward output has shape [${output.shape}], expected [${B}, ${T}, vocab] (output 'all')`);
    }
    const V = output.shape[2] as number;
    // One slice per run of scored positions (an answer span per row), not a gather: slice and
    // concat have gradients on every backend, gather's (UnsortedSegmentSum) is missing on wasm.
    const parts = runs.map(({ row, from, length }) => tf.reshape(tf.slice(output, [row, from, 0], [1, length, V]), [length, V]));
    const rows = (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
    return { logits: rows, labels: tf.tensor1d(labels, 'int32') };
  };
  return {
    kind: 'answer',
    rows: labels.length,
    forward: (ctx) => backbone.forward(batch.tokens, { output: 'all', ctx }),
    scored,
    nll: (output) =>
      tf.tidy(() => {
        const r = scored(output);
        return classNll(r.logits, r.labels);
      }),
    accuracy: (output) =>
      tf.tidy(() => {
        const r = scored(output);
        return classAccuracy(r.logits, r.labels);
      }),
  };
}

/** A run of consecutive scored positions of one row. */
interface Run {
  readonly row: number;
  readonly from: number;
  readonly length: number;
}

/**
 * The runs of positions with weight 1, row by row, and their targets in the same order, read
 * back once per batch. The batch contract's weights are 0 or 1; anything else, targets that are
 * the inputs (defect 5: masking them would corrupt the model's inputs) or no scored position at
 * all is refused rather than trained on.
 */
function scoredRuns(batch: AnswerBatch): { runs: Run[]; labels: Int32Array } {
  const shape = batch.tokens.inputIds.shape;
  for (const [name, t] of [['targets', batch.targets], ['weights', batch.weights]] as const) {
    if (t.rank !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) throw new Error(`answer batch: ${name} has shape [${t.shape}], the inputs [${shape}]`);
  }
  if (batch.targets === batch.tokens.inputIds) throw new Error('answer batch: targets is the inputIds tensor; targets are the inputs shifted by one, in their own tensor (defect 5)');
  const [B, T] = shape;
  const w = batch.weights.dataSync();
  const y = batch.targets.dataSync();
  const runs: Run[] = [];
  const labels: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const v = w[b * T + t];
      if (v === 0) continue;
      if (v !== 1) throw new Error(`answer batch: weight ${v} at row ${b}, position ${t}; weights are 0 (unscored) or 1 (an answer token)`);
      const last = runs[runs.length - 1];
      if (last && last.row === b && last.from + last.length === t) runs[runs.length - 1] = { ...last, length: last.length + 1 };
      else runs.push({ row: b, from: t, length: 1 });
      labels.push(y[b * T + t]);
    }
  }
  if (labels.length === 0) throw new Error(`answer batch of ${batch.ids.join(', ')}: no answer token to train on (every weight is 0)`);
  return { runs, labels: Int32Array.from(labels) };
}
