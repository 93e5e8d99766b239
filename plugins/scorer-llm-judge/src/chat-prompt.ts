import type { ChatMessage, Tokenizer } from '@bayes-peft/core';

/** How a local judge's prompt was made, for the start-up line and the README's table. */
export type PromptStyle = 'chat-template' | 'chat-template-no-system' | 'plain';

export interface JudgePrompt {
  /** The text to encode with special tokens (so the tokenizer's own BOS, if it adds one, is the only one). */
  readonly text: string;
  /**
   * What comes between the prompt and the answer word: '' after a chat template's assistant
   * header, ' ' after the plain prompt's `Answer:`. The confidence scores `answerPrefix + CORRECT`.
   */
  readonly answerPrefix: string;
  readonly style: PromptStyle;
}

/**
 * The judge's prompt for one item: the system and user messages through the judge model's own
 * chat template with the generation prompt (no hard-coded Llama 3 markup), or, for a model
 * without one, the plain text `system \n\n user \n\nAnswer:`.
 *
 * One BOS (defect 21): templates usually write `{{ bos_token }}` and a Llama tokenizer adds
 * another when encoding, so a leading BOS is cut from the rendered text when the tokenizer adds
 * one itself (as core's chatTemplateContext does for dataset prompts). A template that refuses a
 * system message (Gemma's, Mistral's raise an exception) gets the system text at the head of the
 * user message instead.
 */
export function judgePrompt(tokenizer: Tokenizer, system: string, user: string, useTemplate = true): JudgePrompt {
  const render = useTemplate ? tokenizer.applyChatTemplate?.bind(tokenizer) : undefined;
  if (!render) return { text: `${system}\n\n${user}\n\nAnswer:`, answerPrefix: ' ', style: 'plain' };
  const messages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
  let text: string;
  let style: PromptStyle = 'chat-template';
  try {
    text = render(messages, { addGenerationPrompt: true });
  } catch {
    text = render([{ role: 'user', content: `${system}\n\n${user}` }], { addGenerationPrompt: true });
    style = 'chat-template-no-system';
  }
  return { text: withoutLeadingBos(tokenizer, text), answerPrefix: '', style };
}

function withoutLeadingBos(tokenizer: Tokenizer, text: string): string {
  if (!tokenizer.addsBos || tokenizer.bosTokenId === null) return text;
  const bos = tokenizer.decode([tokenizer.bosTokenId], { skipSpecialTokens: false });
  return bos && text.startsWith(bos) ? text.slice(bos.length) : text;
}
