/**
 * How many tokens of each side of a pair to keep when together they exceed `budget` (the model's
 * max length less the special tokens): Hugging Face's fast tokenizers' `longest_first`, which
 * transformers' `tokenizer(premise, hypothesis, truncation=True)` uses (the reference's call).
 * The shorter side is kept whole when it fits in half the budget (the longer gets the rest);
 * otherwise the budget is split in two, the odd token to the longer side (to the second when the
 * sides are equal). Tokens are cut from the end of each side. (transformers' slow tokenizers,
 * which remove one token at a time from the longer side, can keep a shorter side of more than
 * half; the fast ones, which the reference's AutoTokenizer loads, do not.)
 */
export function longestFirst(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second];
  // As tokenizers' truncate_encodings (utils/truncation.rs): n1 the shorter side, n2 the longer.
  const swap = first > second;
  let n1 = swap ? second : first;
  let n2: number;
  if (n1 > budget) n2 = n1;
  else n2 = Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}
