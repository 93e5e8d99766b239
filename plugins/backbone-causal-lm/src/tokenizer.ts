import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import type { ChatMessage, Tokenizer } from '@bayes-peft/core';
import { ModelLoadError } from './errors';

/** What config.json says about special tokens, used when tokenizer_config.json is silent. */
export interface SpecialTokenFallback {
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
}

type TokenField = string | { content?: string } | null | undefined;

/**
 * A model's tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers, with the
 * special-token ids the backbone needs and the chat template rendered by @huggingface/jinja.
 */
export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  /** Every id that ends a generation by default (Llama 3 chat models list several). */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number;
  readonly addsBos: boolean;
  /** Renders tokenizer_config.json's chat_template; absent when the model has none. */
  readonly applyChatTemplate?: (messages: ChatMessage[], options: { addGenerationPrompt: boolean }) => string;

  constructor(
    private readonly impl: HfTokenizerImpl,
    private readonly tokenizerConfig: Record<string, unknown>,
    fallback: SpecialTokenFallback = { bosTokenId: null, eosTokenIds: [], padTokenId: null },
  ) {
    this.vocabSize = impl.get_vocab(true).size;
    this.bosTokenId = this.tokenId('bos_token') ?? fallback.bosTokenId;
    const eos = this.tokenId('eos_token');
    this.eosTokenIds = [...new Set([...(eos === null ? [] : [eos]), ...fallback.eosTokenIds])];
    this.eosTokenId = this.eosTokenIds[0] ?? null;
    // The fork's rule (docs/reference-differences.md row 15): pad token, else eos, else bos. Padding is always masked out,
    // so with none of the three any id is correct; 0 keeps the tensors valid.
    this.padTokenId = this.tokenId('pad_token') ?? fallback.padTokenId ?? this.eosTokenId ?? this.bosTokenId ?? 0;
    // Whether the post-processor prepends BOS (Llama/Mistral do, Qwen does not): probe it.
    const probe = impl.encode('a', { add_special_tokens: true }).ids;
    this.addsBos = this.bosTokenId !== null && probe[0] === this.bosTokenId && impl.encode('a', { add_special_tokens: false }).ids[0] !== this.bosTokenId;
    const template = compileTemplate(tokenizerConfig.chat_template);
    if (template) {
      this.applyChatTemplate = (messages, options) =>
        template.render({
          messages,
          add_generation_prompt: options.addGenerationPrompt,
          bos_token: this.tokenText('bos_token'),
          eos_token: this.tokenText('eos_token'),
          pad_token: this.tokenText('pad_token'),
          unk_token: this.tokenText('unk_token'),
        });
    }
  }

  /** Reads `<dir>/tokenizer.json` (required) and `<dir>/tokenizer_config.json` (optional). */
  static async fromDir(dir: string, fallback?: SpecialTokenFallback): Promise<HfTokenizer> {
    const tokenizerFile = path.join(dir, 'tokenizer.json');
    const tokenizerJson = await readJson(tokenizerFile, true);
    const config = (await readJson(path.join(dir, 'tokenizer_config.json'), false)) ?? {};
    let impl: HfTokenizerImpl;
    try {
      impl = new HfTokenizerImpl(tokenizerJson!, config);
    } catch (e) {
      throw new ModelLoadError(tokenizerFile, `cannot build the tokenizer (${(e as Error).message})`);
    }
    try {
      return new HfTokenizer(impl, config, fallback);
    } catch (e) {
      throw new ModelLoadError(path.join(dir, 'tokenizer_config.json'), `unusable (${(e as Error).message})`);
    }
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.impl.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    // @huggingface/tokenizers rejects an empty list; no tokens are the empty text (a generation of 0 tokens).
    if (ids.length === 0) return '';
    return this.impl.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** The vocabulary id of a token string, or null. */
  tokenToId(token: string): number | null {
    return this.impl.token_to_id(token) ?? null;
  }

  private tokenText(field: string): string {
    const v = this.tokenizerConfig[field] as TokenField;
    return typeof v === 'string' ? v : (v?.content ?? '');
  }

  private tokenId(field: string): number | null {
    const text = this.tokenText(field);
    return text ? (this.impl.token_to_id(text) ?? null) : null;
  }
}

/** A chat_template is a string, or (transformers' multi-template form) a list of {name, template}. */
function compileTemplate(raw: unknown): Template | null {
  let source: string | undefined;
  if (typeof raw === 'string') source = raw;
  else if (Array.isArray(raw)) {
    const named = raw as { name?: string; template?: string }[];
    source = (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  return source ? new Template(source) : null;
}

async function readJson(file: string, required: true): Promise<Record<string, unknown>>;
async function readJson(file: string, required: false): Promise<Record<string, unknown> | null>;
async function readJson(file: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return null;
    throw new ModelLoadError(file, code === 'ENOENT' ? 'missing (the backbone needs the Hugging Face tokenizer.json)' : `cannot read (${code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError(file, `not valid JSON (${(e as Error).message})`);
  }
}
