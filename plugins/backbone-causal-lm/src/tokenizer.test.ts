import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { HfTokenizer } from './tokenizer';
import { describeShared, modelDir } from './shared.test-support';

describeShared('HfTokenizer', () => {
  const json = () => JSON.parse(fs.readFileSync(path.join(modelDir('stories260K'), 'tokenizer.json'), 'utf8'));
  const make = (config: Record<string, unknown>, fallback?: ConstructorParameters<typeof HfTokenizer>[2]) => new HfTokenizer(new Tokenizer(json(), config), config, fallback);

  it('encodes and decodes like the Hugging Face tokenizer', async () => {
    const tok = await HfTokenizer.fromDir(modelDir('stories260K'));
    expect(tok.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(tok.encode('Once upon a time', { addSpecialTokens: false })).toEqual([403, 407, 261, 378]);
    expect(tok.decode([1, 403, 407, 261, 378, 2], { skipSpecialTokens: true })).toBe('Once upon a time');
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId, tok.vocabSize, tok.addsBos]).toEqual([1, 2, 2, 512, true]);
    expect(tok.applyChatTemplate).toBeUndefined();
  });

  it('picks the pad id: pad token, else eos, else bos', () => {
    const base = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
    expect(make({ ...base, pad_token: '<unk>' }).padTokenId).toBe(0);
    expect(make({ ...base, pad_token: { content: '<unk>' } }).padTokenId).toBe(0);
    expect(make(base).padTokenId).toBe(2);
    expect(make({ bos_token: '<s>' }).padTokenId).toBe(1);
    // config.json's ids stand in when tokenizer_config.json names no special tokens.
    const fromConfig = make({}, { bosTokenId: 1, eosTokenIds: [2, 0], padTokenId: null });
    expect([fromConfig.bosTokenId, fromConfig.eosTokenId, fromConfig.eosTokenIds, fromConfig.padTokenId]).toEqual([1, 2, [2, 0], 2]);
  });

  it('renders a chat template with the special tokens', () => {
    const tok = make({
      bos_token: '<s>',
      eos_token: '</s>',
      chat_template:
        "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
    });
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    expect(tok.applyChatTemplate!(messages, { addGenerationPrompt: true })).toBe('<s><|user|>Hi</s><|assistant|>');
    expect(tok.applyChatTemplate!(messages, { addGenerationPrompt: false })).toBe('<s><|user|>Hi</s>');
    const named = make({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D{{ messages[0].content }}' }] });
    expect(named.applyChatTemplate!(messages, { addGenerationPrompt: false })).toBe('DHi');
  });
});
