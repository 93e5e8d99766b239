import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BackboneConfig } from '@bayes-peft/core';
import { ModelLoadError } from './errors';

/** Architectures whose config.json this backbone reads; all are the Llama decoder with small variations. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** RoPE frequency scaling, as transformers' ROPE_INIT_FUNCTIONS name it. */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    };

/** Everything the decoder needs from config.json, validated and with transformers' defaults filled in. */
export interface CausalLmConfig extends BackboneConfig {
  readonly modelType: ModelType;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  /** Bias on q_proj, k_proj, v_proj (Qwen2 always; Llama with attention_bias). */
  readonly qkvBias: boolean;
  /** Bias on o_proj (Llama with attention_bias; never Qwen2). */
  readonly outputBias: boolean;
  /** Bias on gate/up/down_proj (Llama with mlp_bias). */
  readonly mlpBias: boolean;
  /** A key at distance >= this from the query is masked (Mistral v0.1); null = full causal attention. */
  readonly slidingWindow: number | null;
  readonly bosTokenId: number | null;
  /** config.json's eos_token_id, which Llama 3 chat models give as a list. */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
}

type Raw = Record<string, unknown>;

/** Reads and validates `<dir>/config.json`. */
export async function readConfig(dir: string): Promise<CausalLmConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLoadError(file, code === 'ENOENT' ? 'missing (a Hugging Face model folder needs config.json)' : `cannot read (${code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(file, `not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(raw, file);
}

/** Validates a parsed config.json; `file` is only used in messages. */
export function parseConfig(raw: unknown, file = 'config.json'): CausalLmConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, 'must hold a JSON object');
  const c = raw as Raw;
  const fail = (field: string, message: string): never => {
    throw new ModelLoadError(file, `${field}: ${message}`);
  };
  const int = (field: string, min = 1): number => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const optInt = (field: string, min = 1): number | null => (c[field] === undefined || c[field] === null ? null : int(field, min));
  const num = (field: string, fallback: number): number => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, `expected a positive number, got ${JSON.stringify(c[field])}`);
    return v as number;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'boolean') fail(field, `expected true or false, got ${JSON.stringify(c[field])}`);
    return v as boolean;
  };
  const tokenIds = (field: string): number[] => {
    const v = c[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => Number.isInteger(x) && x >= 0)) fail(field, `expected a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  };

  const modelType = c.model_type;
  if (typeof modelType !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    fail('model_type', `${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  const type = modelType as ModelType;
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu' && act !== 'swish') fail('hidden_act', `${JSON.stringify(act)} is not supported (only silu)`);

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKeyValueHeads = optInt('num_key_value_heads') ?? numHeads;
  if (numHeads % numKeyValueHeads !== 0) {
    fail('num_key_value_heads', `${numKeyValueHeads} does not divide num_attention_heads ${numHeads}`);
  }
  // head_dim may be absent (= hidden/heads) or null in older configs.
  let headDim = optInt('head_dim');
  if (headDim === null) {
    if (hiddenSize % numHeads !== 0) fail('head_dim', `absent, and hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) fail('head_dim', `${headDim} is odd; rotary embeddings need an even head size`);
  if (c.partial_rotary_factor !== undefined && c.partial_rotary_factor !== 1) {
    fail('partial_rotary_factor', `${JSON.stringify(c.partial_rotary_factor)} is not supported (only full rotary embeddings)`);
  }

  // transformers: Qwen2 always has q/k/v bias and no o_proj bias; Llama puts attention_bias on all four.
  const attentionBias = bool('attention_bias', false);
  const qkvBias = type === 'qwen2' ? true : attentionBias;
  const outputBias = type === 'llama' ? attentionBias : false;
  const mlpBias = type === 'llama' ? bool('mlp_bias', false) : false;

  let slidingWindow: number | null = null;
  if (type === 'mistral') slidingWindow = optInt('sliding_window');
  if (type === 'qwen2' && c.use_sliding_window === true) {
    // transformers applies it only to some layers (max_window_layers) and only in some attention kernels.
    fail('use_sliding_window', 'true is not supported for qwen2 (set it to false to use full attention)');
  }

  const maxPositionEmbeddings = int('max_position_embeddings');
  return {
    modelType: type,
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize: int('intermediate_size'),
    vocabSize: int('vocab_size'),
    maxPositionEmbeddings,
    // LlamaConfig, MistralConfig and Qwen2Config all default to untied.
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: num('rope_theta', 10000),
    ropeScaling: parseRopeScaling(c.rope_scaling, file),
    qkvBias,
    outputBias,
    mlpBias,
    slidingWindow,
    bosTokenId: tokenIds('bos_token_id')[0] ?? null,
    eosTokenIds: tokenIds('eos_token_id'),
    padTokenId: tokenIds('pad_token_id')[0] ?? null,
  };
}

function parseRopeScaling(raw: unknown, file: string): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, `rope_scaling: expected an object or null, got ${JSON.stringify(raw)}`);
  const r = raw as Raw;
  // Older configs name the kind `type`, newer ones `rope_type` (transformers reads both).
  const type = r.rope_type ?? r.type;
  const positive = (field: string): number => {
    const v = r[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ModelLoadError(file, `rope_scaling.${field}: expected a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  switch (type) {
    case 'default':
      return null;
    case 'linear':
      return { type: 'linear', factor: positive('factor') };
    case 'llama3': {
      const scaling = {
        type: 'llama3' as const,
        factor: positive('factor'),
        lowFreqFactor: positive('low_freq_factor'),
        highFreqFactor: positive('high_freq_factor'),
        originalMaxPositionEmbeddings: positive('original_max_position_embeddings'),
      };
      if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
        throw new ModelLoadError(file, 'rope_scaling: high_freq_factor must be greater than low_freq_factor');
      }
      return scaling;
    }
    default:
      throw new ModelLoadError(file, `rope_scaling: type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`);
  }
}
