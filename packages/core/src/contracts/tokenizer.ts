export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Text <-> token ids for one model, as its Hugging Face tokenizer.json defines them. */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  /**
   * Every id that ends a sequence (EOS, and a chat model's end-of-turn ids, e.g. Llama 3's
   * <|eot_id|>), `eosTokenId` first. Absent: `[eosTokenId]` alone.
   */
  readonly eosTokenIds?: readonly number[];
  /** Padding id used for left padding (pad, else eos, else bos: the fork's rule, docs/reference-differences.md row 15). */
  readonly padTokenId: number;
  /** Whether `encode` prepends BOS when special tokens are requested (Llama/Mistral do, Qwen does not). */
  readonly addsBos: boolean;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Present when tokenizer_config.json carries a chat template. */
  applyChatTemplate?(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): string;
}
