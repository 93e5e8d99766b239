import { checkStopStrings, cutAtStop, StopStringWatch } from './stop-strings';

/**
 * A tokenizer with SentencePiece's two habits that matter here: a decode drops the leading space
 * of its first token, and byte tokens (ids 10-12, the three UTF-8 bytes of '’') decode to
 * U+FFFD until the character is complete. Id 0 is a special token (skipped).
 */
const PIECES: Record<number, string> = { 1: ' the', 2: ' c', 3: 'at', 4: ' sat', 5: '.' };
const BYTES: Record<number, number> = { 10: 0xe2, 11: 0x80, 12: 0x99 };
const toy = {
  decodes: 0,
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    this.decodes++;
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      out += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (id in BYTES) {
        bytes.push(BYTES[id]);
        continue;
      }
      flush();
      if (id === 0) out += options.skipSpecialTokens ? '' : '<s>';
      else out += PIECES[id];
    }
    flush();
    return out.startsWith(' ') ? out.slice(1) : out;
  },
};

/** Pushes ids one at a time; the step (0-based) at which the watch fires and what it returned. */
function run(ids: number[], stop: string[]): { at: number; hit: { text: string; stop: string } | null } {
  const watch = new StopStringWatch(toy, stop);
  for (let i = 0; i < ids.length; i++) {
    const hit = watch.push(ids.slice(0, i + 1));
    if (hit) return { at: i, hit };
  }
  return { at: -1, hit: null };
}

describe('stop strings', () => {
  it('cuts before the earliest occurrence of any stop string', () => {
    expect(cutAtStop('the cat sat', ['sat', 'cat'])).toEqual({ text: 'the ', stop: 'cat' });
    expect(cutAtStop('the cat sat', ['sat', 'the'])).toEqual({ text: '', stop: 'the' });
    expect(cutAtStop('the cat', ['dog'])).toBeNull();
  });

  it('fires on the token that completes a stop string, across token boundaries', () => {
    // the | cat | sat: 'cat' completes with 'at' (step 2), ' sat' with step 3.
    expect(run([1, 2, 3, 4], ['cat'])).toEqual({ at: 2, hit: { text: 'the ', stop: 'cat' } });
    expect(run([1, 2, 3, 4], ['e c'])).toEqual({ at: 1, hit: { text: 'th', stop: 'e c' } });
    expect(run([1, 2, 3, 4], ['t s'])).toEqual({ at: 3, hit: { text: 'the ca', stop: 't s' } });
    expect(run([1, 2, 3, 4], ['dog'])).toEqual({ at: -1, hit: null });
  });

  it("sees the space a window's first token loses (text from windows of a few tokens)", () => {
    // The window of step 3 starts at ' c': decoded alone it is 'c', yet ' sat' keeps its space.
    expect(run([1, 2, 3, 4, 5], [' sat.'])).toEqual({ at: 4, hit: { text: 'the cat', stop: ' sat.' } });
  });

  it('waits for a byte-fallback character to complete, and skips special tokens', () => {
    expect(run([1, 10, 11, 12, 5], ['’'])).toEqual({ at: 3, hit: { text: 'the', stop: '’' } });
    expect(run([1, 10, 11, 12, 5], ['\uFFFD'])).toEqual({ at: -1, hit: null });
    expect(run([1, 0, 2, 3], ['the cat'])).toEqual({ at: 3, hit: { text: '', stop: 'the cat' } });
  });

  it('decodes windows of a few tokens, not the whole text, until a hit', () => {
    const ids = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5];
    const watch = new StopStringWatch(toy, ['dog']);
    const before = toy.decodes;
    for (let i = 0; i < ids.length; i++) expect(watch.push(ids.slice(0, i + 1))).toBeNull();
    expect(toy.decodes - before).toBe(2 * ids.length);
  });

  it('rejects an empty stop string', () => {
    expect(() => checkStopStrings(['ok', ''])).toThrow('generate: stop must be a list of non-empty strings');
    expect(checkStopStrings(undefined)).toEqual([]);
  });
});
