import { tf } from '@bayes-peft/tensor';
import type { Backbone, McqBatch, McqExample, Tokenizer } from '@bayes-peft/core';
import { UserError } from '@bayes-peft/core';

/**
 * Each class's answer token: the LAST sub-token of its label string, as the reference builds
 * `target_ids` (docs/reference-differences.md row 16). Two labels sharing a token would make classes
 * indistinguishable, so that is an error.
 */
export function targetTokenIds(tokenizer: Tokenizer, labels: readonly string[]): number[] {
  const ids = labels.map((label) => {
    const t = tokenizer.encode(label, { addSpecialTokens: false });
    if (t.length === 0) throw new UserError(`label '${label}' encodes to no token`);
    return t[t.length - 1];
  });
  const seen = new Map<number, string>();
  ids.forEach((id, i) => {
    const other = seen.get(id);
    if (other !== undefined) throw new UserError(`labels '${other}' and '${labels[i]}' end in the same token (${id}); the classes would be indistinguishable`);
    seen.set(id, labels[i]);
  });
  return ids;
}

/** Tokenizes, left pads and uploads one batch. The caller disposes it with `disposeMcqBatch`. */
export function makeMcqBatch(backbone: Backbone, examples: readonly McqExample[], targetIds: readonly number[], maxSeqLen: number): McqBatch {
  const encoded = backbone.encode(
    examples.map((e) => e.prompt),
    { maxLength: maxSeqLen, addSpecialTokens: true },
  );
  return {
    ids: examples.map((e) => e.id),
    tokens: backbone.toTensors(encoded),
    labels: tf.tensor1d(
      examples.map((e) => e.label),
      'int32',
    ),
    targetIds,
  };
}

export function disposeMcqBatch(batch: McqBatch): void {
  batch.tokens.inputIds.dispose();
  batch.tokens.attentionMask.dispose();
  batch.labels.dispose();
}

/** Consecutive slices of `size`; the last partial one is kept unless `dropLast`. */
export function chunk<T>(items: readonly T[], size: number, dropLast = false): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    const part = items.slice(i, i + size);
    if (part.length < size && dropLast) break;
    out.push(part);
  }
  return out;
}
