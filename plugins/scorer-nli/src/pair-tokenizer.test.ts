import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findShared } from '@bayes-peft/fixtures';
import { Tokenizer } from '@huggingface/tokenizers';
import { PairTokenizer } from './pair-tokenizer';

const dir = findShared('models/tiny-nli', 'the pair tokenizer tests');

(dir ? describe : describe.skip)("pair encoding with tiny-nli's tokenizer.json", () => {
  const make = (maxLength: number) => {
    const json = JSON.parse(readFileSync(path.join(dir!, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(readFileSync(path.join(dir!, 'tokenizer_config.json'), 'utf8'));
    return new PairTokenizer(new Tokenizer(json, config), maxLength, dir!);
  };

  it("adds the template's special tokens ([CLS] A [SEP] B [SEP]) with segment ids 0 then 1", () => {
    const t = make(512);
    expect(t.specialTokens).toBe(3);
    const e = t.encodePair('Paris', 'London');
    expect(e).toEqual({ ids: [1, 69, 35, 93, 2, 387, 2], typeIds: [0, 0, 0, 0, 0, 1, 1], truncated: false });
    expect(t.padId('[PAD]', 5)).toBe(0);
    expect(t.padId(undefined, 5)).toBe(5);
  });

  it('cuts a pair longer than the max length, longest side first, and keeps the template', () => {
    const t = make(12);
    const long = 'The answer is Paris. The answer is Paris. The answer is Paris.';
    const whole = make(512);
    const a = whole.encodePair(long, 'Paris').ids; // [CLS] 30 tokens [SEP] 3 tokens [SEP]
    const e = t.encodePair(long, 'Paris');
    expect(e.truncated).toBe(true);
    expect(e.ids.length).toBe(12);
    // 9 tokens of room: 'Paris' (3) fits in half, the long premise keeps its first 6.
    expect(e.ids).toEqual([...a.slice(0, 7), 2, 69, 35, 93, 2]);
    // Both sides too long: the budget is split, the extra token to the longer side.
    const both = t.encodePair(long, long);
    expect(both.ids.length).toBe(12);
    expect(both.ids.filter((id) => id === 2).length).toBe(2);
    expect(both.ids.indexOf(2)).toBe(5); // [CLS] + 4 premise tokens, then [SEP]
  });

  it('encodes empty sides as the template alone', () => {
    expect(make(512).encodePair('', '').ids).toEqual([1, 2, 2]);
  });

  it('refuses a max length that leaves no room for a pair', () => {
    expect(() => make(4)).toThrow(/max length 4 leaves no room for a pair after the template's 3 special tokens/);
  });
});
