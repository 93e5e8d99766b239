import { tf } from '@bayes-peft/tensor';
import type { EncodedBatch, TokenBatch, Tokenizer } from '@bayes-peft/core';

export interface EncodeOptions {
  /** Longer inputs keep their last tokens (and a leading BOS); default: no limit. */
  readonly maxLength?: number;
  /** Add the tokenizer's special tokens (BOS for Llama/Mistral); default true. */
  readonly addSpecialTokens?: boolean;
}

/**
 * Tokenizes and left pads. Over-long inputs are cut from the left, unlike the reference's
 * right truncation (docs/reference-differences.md row 12), because the answer cue ("Answer:") sits at the end
 * and the class logits are read at the last position; a leading BOS is kept in front.
 */
export function encodeTexts(tokenizer: Tokenizer, texts: readonly string[], options: EncodeOptions = {}): EncodedBatch {
  const addSpecial = options.addSpecialTokens ?? true;
  const rows = texts.map((text, i) => {
    const ids = tokenizer.encode(text, { addSpecialTokens: addSpecial });
    if (ids.length === 0) throw new Error(`text ${i} (${JSON.stringify(text.slice(0, 40))}) encodes to no tokens`);
    const keepBos = addSpecial && tokenizer.addsBos && ids[0] === tokenizer.bosTokenId;
    return options.maxLength === undefined ? ids : truncateLeft(ids, options.maxLength, keepBos);
  });
  return leftPad(rows, tokenizer.padTokenId);
}

/** The last `maxLength` ids, or BOS followed by the last `maxLength - 1` when `keepFirst`. */
export function truncateLeft(ids: readonly number[], maxLength: number, keepFirst: boolean): number[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
  if (ids.length <= maxLength) return [...ids];
  if (keepFirst && maxLength > 1) return [ids[0], ...ids.slice(ids.length - (maxLength - 1))];
  return ids.slice(ids.length - maxLength);
}

/** Pads rows on the left to the longest one; the mask marks real tokens with 1. */
export function leftPad(rows: readonly (readonly number[])[], padId: number): EncodedBatch {
  if (rows.length === 0) throw new Error('cannot build a batch of zero rows');
  const width = Math.max(...rows.map((r) => r.length));
  if (width === 0) throw new Error('cannot build a batch of empty rows');
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const row of rows) {
    const pad = width - row.length;
    ids.push([...new Array<number>(pad).fill(padId), ...row]);
    mask.push([...new Array<number>(pad).fill(0), ...new Array<number>(row.length).fill(1)]);
  }
  return { ids, mask };
}

/** The tokens of each row without its padding. */
export function unpad(batch: EncodedBatch): number[][] {
  return batch.ids.map((row, b) => row.filter((_, t) => batch.mask[b][t] === 1));
}

/** int32 [B, T] tensors of a host batch, after checking it is rectangular and in the vocabulary. */
export function batchToTensors(batch: EncodedBatch, vocabSize: number): TokenBatch {
  const b = batch.ids.length;
  const t = b ? batch.ids[0].length : 0;
  if (b === 0 || t === 0) throw new Error(`empty batch (${b} rows of ${t} tokens)`);
  if (batch.mask.length !== b) throw new Error(`batch has ${b} id rows but ${batch.mask.length} mask rows`);
  const ids = new Int32Array(b * t);
  const mask = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    const row = batch.ids[i];
    const m = batch.mask[i];
    if (row.length !== t || m.length !== t) throw new Error(`batch row ${i} has ${row.length} ids and ${m.length} mask entries, expected ${t}`);
    for (let j = 0; j < t; j++) {
      const id = row[j];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`batch row ${i} position ${j}: token id ${id} is outside the vocabulary [0, ${vocabSize})`);
      ids[i * t + j] = id;
      mask[i * t + j] = m[j] ? 1 : 0;
    }
  }
  return { inputIds: tf.tensor2d(ids, [b, t], 'int32'), attentionMask: tf.tensor2d(mask, [b, t], 'int32') };
}

/**
 * RoPE position of every token of left-padded rows: cumsum(mask) - 1, padding clamped to 0 (as
 * transformers' generate computes position_ids; CausalLm.forward does the same on the device).
 */
export function maskPositions(mask: readonly (readonly number[])[]): number[][] {
  return mask.map((row) => {
    let seen = 0;
    return row.map((m) => Math.max(0, (seen += m ? 1 : 0) - 1));
  });
}
