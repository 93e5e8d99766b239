import type { SessionFeed } from '@bayes-peft/onnx';
import type { PairEncoding } from './pair-tokenizer';

/** The inputs a Hugging Face sequence-classification export may declare; anything else is an error. */
export const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

export interface FeedLayout {
  /** The graph's input names (only these are fed). */
  readonly inputs: readonly string[];
  /** Element type per input as the graph declares it; int64 unless it says int32. */
  readonly types: Readonly<Record<string, string>>;
  readonly padId: number;
  /**
   * Whether token_type_ids carry the tokenizer's segment ids (models with segment embeddings,
   * config type_vocab_size > 1: BERT) or zeros (DeBERTa-v3 and RoBERTa, which have none).
   */
  readonly segmentIds: boolean;
}

/**
 * One batch's feeds: rows right-padded with the pad id to the longest, attention mask 1 on real
 * tokens, token_type_ids (when the graph asks for them) zeros or the segment ids.
 */
export function batchFeeds(rows: readonly PairEncoding[], layout: FeedLayout): Record<string, SessionFeed> {
  const T = Math.max(1, ...rows.map((r) => r.ids.length));
  const dims = [rows.length, T];
  const fill = (value: (r: PairEncoding, t: number) => number, pad: number, type: string): SessionFeed => {
    const n = rows.length * T;
    const data = type === 'int32' ? new Int32Array(n).fill(pad) : new BigInt64Array(n).fill(BigInt(pad));
    rows.forEach((r, i) => {
      for (let t = 0; t < r.ids.length; t++) {
        if (data instanceof Int32Array) data[i * T + t] = value(r, t);
        else data[i * T + t] = BigInt(value(r, t));
      }
    });
    return { data, dims };
  };
  const feeds: Record<string, SessionFeed> = {};
  for (const name of layout.inputs) {
    const type = layout.types[name] ?? 'int64';
    if (name === 'input_ids') feeds[name] = fill((r, t) => r.ids[t], layout.padId, type);
    else if (name === 'attention_mask') feeds[name] = fill(() => 1, 0, type);
    else if (name === 'token_type_ids') feeds[name] = fill((r, t) => (layout.segmentIds ? r.typeIds[t] : 0), 0, type);
  }
  return feeds;
}
