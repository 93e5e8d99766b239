import type { ChatMessage, Tokenizer } from './contracts';
import { chatTemplateContext } from './chat-template-context';

/** A Llama-3 style template over a fake tokenizer whose BOS is `<|begin_of_text|>` (id 1). */
function tokenizer(addsBos: boolean, withTemplate = true): Tokenizer {
  const render = (messages: ChatMessage[], o: { addGenerationPrompt: boolean }) =>
    '<|begin_of_text|>' +
    messages.map((m) => `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content}<|eot_id|>`).join('') +
    (o.addGenerationPrompt ? '<|start_header_id|>assistant<|end_header_id|>\n\n' : '');
  return {
    vocabSize: 10,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: 2,
    addsBos,
    encode: () => [],
    decode: (ids) => ids.map((i) => (i === 1 ? '<|begin_of_text|>' : '?')).join(''),
    ...(withTemplate ? { applyChatTemplate: render } : {}),
  };
}

describe('chatTemplateContext', () => {
  it('renders one user message with the generation prompt, without the BOS the encoder adds', () => {
    const ctx = chatTemplateContext(tokenizer(true));
    expect(ctx.applyChatTemplate!('Q?')).toBe('<|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
  });

  it('a training text: user and assistant messages, no generation prompt', () => {
    const ctx = chatTemplateContext(tokenizer(true));
    expect(ctx.applyChatTemplate!('Q?', 'yes')).toBe(
      '<|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nyes<|eot_id|>',
    );
  });

  it('keeps the BOS when the tokenizer does not add one', () => {
    expect(chatTemplateContext(tokenizer(false)).applyChatTemplate!('Q?')).toMatch(/^<\|begin_of_text\|><\|start_header_id\|>user/);
  });

  it('no chat template: no applyChatTemplate', () => {
    expect(chatTemplateContext(tokenizer(true, false))).toEqual({});
  });
});
