import { Tokenizer } from '@huggingface/tokenizers';
import { NliModelError } from './errors';
import { longestFirst } from './truncation';

/** What a tokenizer.json post-processor returns (@huggingface/tokenizers' PostProcessedOutput, not exported by its index). */
interface PostProcessedOutput {
  tokens: string[];
  tokens_pair?: string[];
  token_type_ids?: number[];
}

/** One tokenized sentence pair: `[CLS] premise [SEP] hypothesis [SEP]` or the model's own template. */
export interface PairEncoding {
  readonly ids: readonly number[];
  /** The post-processor's segment ids (0 for the premise part, 1 for the hypothesis part). */
  readonly typeIds: readonly number[];
  /** Whether either side was cut to fit the max length. */
  readonly truncated: boolean;
}

/**
 * Encodes (premise, hypothesis) pairs as transformers' `tokenizer(premise, hypothesis,
 * truncation=True, max_length=L)` does: each side tokenized alone (normalizer, pre-tokenizer,
 * model), both cut by `longest_first` to L less the template's special tokens, then joined by the
 * tokenizer.json's post-processor (TemplateProcessing for DeBERTa-v3, RobertaProcessing for
 * roberta-large-mnli, BertProcessing for BERT). @huggingface/tokenizers 0.2.0 encodes pairs but
 * does not truncate, hence the split.
 */
export class PairTokenizer {
  /** Special tokens the template adds around a pair. */
  readonly specialTokens: number;
  private readonly addedIds: Map<string, number>;
  private readonly unkId: number | null;

  constructor(
    private readonly impl: Tokenizer,
    readonly maxLength: number,
    where: string,
  ) {
    this.addedIds = new Map([...impl.get_added_tokens_decoder()].map(([id, t]) => [t.content, id]));
    this.unkId = this.findUnk();
    const post = impl.post_processor;
    this.specialTokens = post ? post([], [], true).tokens.length : 0;
    if (this.specialTokens + 2 > maxLength) {
      throw new NliModelError(where, `max length ${maxLength} leaves no room for a pair after the template's ${this.specialTokens} special tokens`);
    }
  }

  /** The vocabulary size with added tokens, for checks against the model's embedding. */
  get vocabSize(): number {
    return this.impl.get_vocab(true).size;
  }

  /** The pad token id: tokenizer_config's pad_token, else `fallback` (config.json's pad_token_id), else 0. */
  padId(padToken: string | undefined, fallback: number | undefined): number {
    const id = padToken === undefined ? undefined : (this.addedIds.get(padToken) ?? this.impl.token_to_id(padToken));
    return id ?? fallback ?? 0;
  }

  encodePair(premise: string, hypothesis: string): PairEncoding {
    let a = this.impl.tokenize(premise);
    let b = this.impl.tokenize(hypothesis);
    const [keepA, keepB] = longestFirst(a.length, b.length, this.maxLength - this.specialTokens);
    const truncated = keepA < a.length || keepB < b.length;
    if (truncated) {
      a = a.slice(0, keepA);
      b = b.slice(0, keepB);
    }
    const post = this.impl.post_processor;
    const joined: PostProcessedOutput = post ? post(a, b, true) : { tokens: [...a, ...b], token_type_ids: [...a.map(() => 0), ...b.map(() => 1)] };
    const tokens: string[] = joined.tokens;
    // A ByteLevel post-processor returns the two sides apart (tokens_pair) instead of joined.
    const all: string[] = Array.isArray(joined.tokens_pair) ? [...tokens, ...joined.tokens_pair] : tokens;
    const typeIds: number[] = joined.token_type_ids ?? all.map((_, i) => (i < tokens.length ? 0 : 1));
    return { ids: all.map((t) => this.tokenId(t)), typeIds, truncated };
  }

  /** As the library's encode: added tokens first, then the model's vocabulary, else the unknown token. */
  private tokenId(token: string): number {
    const id = this.addedIds.get(token) ?? this.impl.token_to_id(token) ?? this.unkId;
    if (id === null || id === undefined) throw new Error(`token '${token}' is not in the vocabulary and the tokenizer has no unknown token`);
    return id;
  }

  private findUnk(): number | null {
    const model = (this.impl as unknown as { model?: { unk_token_id?: number } }).model;
    return typeof model?.unk_token_id === 'number' ? model.unk_token_id : null;
  }
}
