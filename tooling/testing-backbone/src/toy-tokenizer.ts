import type { Tokenizer } from '@bayes-peft/core';

/**
 * A character tokenizer over a small vocabulary: pad 0, bos 1, eos 2, and every character maps
 * to 3 + (code mod (V - 3)). Lossy on decode (ids map back to letters), which tests do not need.
 */
export class ToyTokenizer implements Tokenizer {
  readonly bosTokenId = 1;
  readonly eosTokenId = 2;
  readonly padTokenId = 0;
  readonly addsBos = true;

  constructor(readonly vocabSize: number) {
    if (vocabSize < 8) throw new Error('ToyTokenizer: vocabSize must be >= 8');
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const ids = Array.from(text, (c) => 3 + (c.codePointAt(0)! % (this.vocabSize - 3)));
    return options.addSpecialTokens === false ? ids : [this.bosTokenId, ...ids];
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return ids
      .filter((i) => !(options.skipSpecialTokens && i < 3))
      .map((i) => (i < 3 ? `<${['pad', 'bos', 'eos'][i]}>` : String.fromCharCode(97 + ((i - 3) % 26))))
      .join('');
  }

  /** The token id a single-character label maps to (what a dataset's target id would be). */
  idOf(label: string): number {
    const ids = this.encode(label, { addSpecialTokens: false });
    return ids[ids.length - 1];
  }
}
