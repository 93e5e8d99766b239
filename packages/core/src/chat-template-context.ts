import type { DatasetLoadContext, Tokenizer } from './contracts';

/**
 * The DatasetLoadContext for a model's tokenizer: `applyChatTemplate` when the tokenizer has a
 * chat template, else nothing (datasets then use their plain prompts).
 *
 * Chat templates usually write the BOS token themselves (`{{ bos_token }}`), and a tokenizer that
 * adds BOS when encoding with special tokens (Llama) would then give two: the reference's double
 * BOS (docs/reference-differences.md row 40). A leading BOS is therefore removed from the rendered text when
 * the tokenizer adds one itself; tokenizers that add none (Qwen) keep the text as rendered.
 */
export function chatTemplateContext(tokenizer: Tokenizer): DatasetLoadContext {
  const render = tokenizer.applyChatTemplate?.bind(tokenizer);
  if (!render) return {};
  const bos = tokenizer.addsBos && tokenizer.bosTokenId !== null ? tokenizer.decode([tokenizer.bosTokenId], { skipSpecialTokens: false }) : '';
  return {
    applyChatTemplate(user, assistant) {
      const text =
        assistant === undefined
          ? render([{ role: 'user', content: user }], { addGenerationPrompt: true })
          : render(
              [
                { role: 'user', content: user },
                { role: 'assistant', content: assistant },
              ],
              { addGenerationPrompt: false },
            );
      return bos && text.startsWith(bos) ? text.slice(bos.length) : text;
    },
  };
}
