import { tf } from '@bayes-peft/tensor';
import { UserError, type AnswerBatch, type Backbone, type OpenExample, type Tokenizer, type TrainBatch } from '@bayes-peft/core';
import { disposeMcqBatch } from './mcq-batch';

export interface AnswerBatchOptions {
  /**
   * Told when an answer is longer than the row (`maxSeqLen`): its start is trained on, its end
   * (and EOS) cut. Default: a Node process warning.
   */
  readonly warn?: (message: string) => void;
}

/** One training text on the host: its token ids and where its answer starts. */
export interface AnswerRow {
  readonly ids: number[];
  /** Index in `ids` of the first answer token (everything before it is prompt or chat header). */
  readonly answerStart: number;
}

/**
 * The token row of an open-ended example for next-token training on its answer
 * (docs/methods.md, 'Training objectives'):
 *
 * - ids = encode(trainText) with special tokens, then EOS (the tokenizer's first EOS id) unless
 *   the text already ends with one of its EOS ids (a chat template's end of turn);
 * - the answer starts at the longest common prefix of those ids and encode(prompt): robust to a
 *   merge across the prompt/answer boundary, and for a chat-templated example (whose prompt
 *   ends with the assistant header) everything up to the assistant's turn is prompt;
 * - over `maxSeqLen` tokens, the row is cut from the LEFT (keeping a leading BOS) so the answer
 *   survives; an answer that alone does not fit keeps its start (one token of context, then as
 *   much of the answer as fits) and `warn` says so.
 *
 * Refused, naming the example: no trainText, a trainText that does not start with the prompt,
 * an answer with no token but EOS, or two leading BOS (defect 25: chat templates go through
 * core's chatTemplateContext, which strips the template's own BOS).
 */
export function answerRow(tokenizer: Tokenizer, example: OpenExample, maxSeqLen: number, options: AnswerBatchOptions = {}): AnswerRow {
  const where = `open-ended example ${example.id}`;
  if (example.trainText === undefined) throw new UserError(`${where} has no training text (trainText); its dataset does not support training`);
  if (!example.trainText.startsWith(example.prompt)) {
    throw new UserError(`${where}: its training text does not start with its prompt, so the answer cannot be located`);
  }
  const eos = eosIds(tokenizer);
  if (eos.length === 0) throw new UserError(`${where}: the tokenizer has no EOS token to end the answer with`);
  const full = tokenizer.encode(example.trainText, { addSpecialTokens: true });
  if (!eos.includes(full[full.length - 1])) full.push(eos[0]);
  const prompt = tokenizer.encode(example.prompt, { addSpecialTokens: true });
  const bos = tokenizer.bosTokenId;
  if (bos !== null && full[0] === bos && full[1] === bos) {
    throw new Error(`${where} encodes with two BOS tokens (defect 25); render chat templates through core's chatTemplateContext, which drops the template's own`);
  }
  let start = 0;
  while (start < prompt.length && start < full.length && prompt[start] === full[start]) start++;
  if (full.slice(start).every((id) => eos.includes(id))) {
    throw new UserError(`${where}: its training text adds no answer token to its prompt (nothing to train on but EOS)`);
  }
  return truncateRow(full, start, maxSeqLen, bos !== null && tokenizer.addsBos && full[0] === bos, (m) => (options.warn ? options.warn(`${where}: ${m}`) : process.emitWarning(`${where}: ${m}`)));
}

/** The row cut from the left to `maxSeqLen` (see answerRow). */
function truncateRow(ids: number[], start: number, maxSeqLen: number, keepBos: boolean, warn: (m: string) => void): AnswerRow {
  if (!Number.isInteger(maxSeqLen) || maxSeqLen < 2) throw new UserError(`maxSeqLen must be an integer >= 2 to train on answers (an input and its next token), got ${maxSeqLen}`);
  if (ids.length <= maxSeqLen) return { ids, answerStart: start };
  const head = keepBos ? [ids[0]] : [];
  const room = maxSeqLen - head.length;
  // The first answer token is scored only with a token before it: keep ids[start - 1] at least.
  const from = Math.max(ids.length - room, head.length);
  if (from <= start - 1 || start === 0) {
    return { ids: [...head, ...ids.slice(from)], answerStart: Math.max(start - from, 0) + head.length };
  }
  // The answer alone is too long: one token of context (BOS in front unless that token is BOS), then its start.
  const lead = start - 1 >= head.length ? head : [];
  const kept = ids.slice(start - 1, start - 1 + maxSeqLen - lead.length);
  warn(`its answer (${ids.length - start} tokens with EOS) does not fit in train.maxSeqLen ${maxSeqLen}; training on its first ${kept.length - 1} tokens only (no EOS): raise train.maxSeqLen`);
  return { ids: [...lead, ...kept], answerStart: lead.length + 1 };
}

function eosIds(tokenizer: Tokenizer): readonly number[] {
  if (tokenizer.eosTokenIds && tokenizer.eosTokenIds.length > 0) return tokenizer.eosTokenIds;
  return tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId];
}

/**
 * Tokenizes, left pads and uploads one batch of open-ended examples for next-token training on
 * their answers (rows as `answerRow` builds them). Position t of a row predicts its token t + 1:
 * `targets[t] = ids[t + 1]` in a tensor of its own (never the inputs: defect 5), `weights[t]` = 1
 * exactly when token t + 1 is an answer token (EOS included), so prompt, chat header, padding and
 * the last position are not scored. The caller disposes it with `disposeTrainBatch`.
 */
export function makeAnswerBatch(backbone: Backbone, examples: readonly OpenExample[], maxSeqLen: number, options: AnswerBatchOptions = {}): AnswerBatch {
  if (examples.length === 0) throw new Error('cannot build an answer batch of zero examples');
  const rows = examples.map((e) => answerRow(backbone.tokenizer, e, maxSeqLen, options));
  const T = Math.max(...rows.map((r) => r.ids.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  const targets = new Int32Array(rows.length * T);
  const weights = new Float32Array(rows.length * T);
  rows.forEach((row, b) => {
    const pad = T - row.ids.length;
    ids.push([...new Array<number>(pad).fill(backbone.tokenizer.padTokenId), ...row.ids]);
    mask.push([...new Array<number>(pad).fill(0), ...new Array<number>(row.ids.length).fill(1)]);
    for (let t = 0; t + 1 < row.ids.length; t++) {
      targets[b * T + pad + t] = row.ids[t + 1];
      weights[b * T + pad + t] = t + 1 >= row.answerStart ? 1 : 0;
    }
  });
  const tokens = backbone.toTensors({ ids, mask });
  return {
    kind: 'answer',
    ids: examples.map((e) => e.id),
    tokens,
    targets: tf.tensor2d(targets, [rows.length, T], 'int32'),
    weights: tf.tensor2d(weights, [rows.length, T], 'float32'),
  };
}

/** Frees a training batch of either kind (what `makeMcqBatch` or `makeAnswerBatch` made). */
export function disposeTrainBatch(batch: TrainBatch): void {
  if (batch.kind !== 'answer') return disposeMcqBatch(batch);
  tf.dispose([batch.tokens.inputIds, batch.tokens.attentionMask, batch.targets, batch.weights]);
}
