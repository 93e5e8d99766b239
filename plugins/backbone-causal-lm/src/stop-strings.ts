/**
 * Stop strings: a sequence ends once its decoded generated text contains one of them.
 *
 * Decoding the whole generated text after every token would cost a decode of t tokens at step t
 * for every row. Each row instead keeps its text incrementally, as streaming servers do: the new
 * text of a step is decode(ids[prefix:]) minus decode(ids[prefix:read]), a window of a few
 * tokens. The window starts a few tokens back so the tokenizer sees the context it needs (a
 * SentencePiece decoder drops the space of a window's first token, and that token's text is
 * in both decodes), and a tail ending in U+FFFD (a byte-fallback character not yet complete)
 * waits for the next token. Only the text that could newly hold a stop string, the last
 * (longest stop - 1) characters before the new ones plus the new ones, is searched. A hit is
 * confirmed on one full decode, which also gives the returned text.
 */
import type { Tokenizer } from '@bayes-peft/core';

/** Rejects an unusable stop list (an empty string would be found in every text). */
export function checkStopStrings(stop: readonly string[] | undefined): readonly string[] {
  if (stop === undefined) return [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new Error(`generate: stop must be a list of non-empty strings, got ${JSON.stringify(stop)}`);
  }
  return stop;
}

/** The text before the earliest occurrence of any stop string, and that string; null when none occurs. */
export function cutAtStop(text: string, stop: readonly string[]): { text: string; stop: string } | null {
  let best: { text: string; stop: string } | null = null;
  let at = Infinity;
  for (const s of stop) {
    const i = text.indexOf(s);
    if (i >= 0 && i < at) {
      at = i;
      best = { text: text.slice(0, i), stop: s };
    }
  }
  return best;
}

/** One sequence's incremental text and stop-string check. */
export class StopStringWatch {
  private text = '';
  private prefix = 0;
  private read = 0;
  private readonly longest: number;

  constructor(
    private readonly tokenizer: Pick<Tokenizer, 'decode'>,
    private readonly stop: readonly string[],
  ) {
    this.longest = Math.max(...stop.map((s) => s.length));
  }

  /**
   * Call after each generated token is appended to `ids` (the generated tokens only). Returns
   * the generated text cut before the earliest stop string once the text holds one, else null.
   */
  push(ids: readonly number[]): { text: string; stop: string } | null {
    const decode = (from: number, to: number) => this.tokenizer.decode(ids.slice(from, to), { skipSpecialTokens: true });
    const before = decode(this.prefix, this.read);
    const now = decode(this.prefix, ids.length);
    if (now.length <= before.length || now.endsWith('\uFFFD') || !now.startsWith(before)) return null;
    const searchFrom = Math.max(0, this.text.length - this.longest + 1);
    this.text += now.slice(before.length);
    this.prefix = this.read;
    this.read = ids.length;
    const tail = this.text.slice(searchFrom);
    if (!this.stop.some((s) => tail.includes(s))) return null;
    // Confirmed on the full text (and cut there): the incremental text is the same in all but odd decoders.
    return cutAtStop(this.tokenizer.decode([...ids], { skipSpecialTokens: true }), this.stop);
  }
}
