import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A Llama 3 style chat template that writes BOS itself, as Meta's does (with a system turn). */
export const LLAMA3_STYLE_TEMPLATE =
  '{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}' +
  '{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}';

/** A template that refuses a system turn, as Gemma's does. */
export const NO_SYSTEM_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
  '{{ bos_token }}{% for m in messages %}<turn>{{ m.role }}\n{{ m.content }}<end>\n{% endfor %}{% if add_generation_prompt %}<turn>model\n{% endif %}';

/**
 * A model folder outside the repository: the shared model's files linked (never copied), with a
 * tokenizer_config.json that carries `chatTemplate` (the shared models have none). Removed by
 * the returned function.
 */
export async function modelWithChatTemplate(sharedModel: string, chatTemplate: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'llm-judge-model-'));
  for (const name of await fs.readdir(sharedModel)) {
    if (name !== 'tokenizer_config.json') await fs.symlink(path.join(sharedModel, name), path.join(dir, name));
  }
  const config = JSON.parse(await fs.readFile(path.join(sharedModel, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  await fs.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: chatTemplate }));
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
