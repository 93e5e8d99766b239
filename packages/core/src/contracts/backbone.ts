import type { tf } from '@bayes-peft/tensor';
import type { Rng } from '../rng';
import type { EvalEngine } from './engine';
import type { Tokenizer } from './tokenizer';

/** The projections of a Llama-family decoder that accept an adapter. */
export const SITE_KINDS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
  'lm_head',
] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

/** Per forward call state shared by every adapter of the model. */
export interface ForwardContext {
  /** True inside a training step (dropout active, gradients recorded). */
  readonly training: boolean;
  /** Seeded source for every random draw of this call (noise, dropout, sign vectors). */
  readonly rng: Rng;
}

/**
 * Something installed on a linear site: its output is added to the frozen layer's output,
 * y = W0 x (+ b) + adapter.delta(x). LoRA, BLoB's flipout sampler, MC dropout and ensemble
 * switching are all adapters. Called inside `tf.tidy`; must not keep the tensors it makes.
 */
export interface Adapter {
  /** x: [..., inFeatures] -> [..., outFeatures]. */
  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

/** A named frozen linear layer, y = x W^T (+ b), that adapters attach to. */
export interface LinearSite {
  /** Hugging Face module path, e.g. `model.layers.3.self_attn.q_proj` or `lm_head`. */
  readonly name: string;
  readonly kind: SiteKind;
  readonly layerIndex: number | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Frozen weight, [outFeatures, inFeatures] (PyTorch layout). */
  readonly weight: tf.Tensor2D;
  adapter: Adapter | null;
}

export interface BackboneConfig {
  readonly modelType: string;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
}

/** Token ids on the host, left padded to a common length. */
export interface EncodedBatch {
  /** [B][T] token ids, left padded with the tokenizer's pad id. */
  readonly ids: number[][];
  /** [B][T] 1 for real tokens, 0 for padding. */
  readonly mask: number[][];
}

/** Device-side batch: int32 tensors [B, T]. Owned by the caller. */
export interface TokenBatch {
  readonly inputIds: tf.Tensor2D;
  readonly attentionMask: tf.Tensor2D;
}

export interface ForwardOptions {
  /** 'last' returns [B, V] logits of the last position, 'all' returns [B, T, V]. */
  readonly output: 'last' | 'all';
  readonly ctx: ForwardContext;
  /** Only these vocabulary columns of the last-position logits ([B, columns.length]); 'last' only. */
  readonly columns?: readonly number[];
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  /** 0 means greedy. */
  readonly temperature: number;
  readonly topP: number;
  readonly ctx: ForwardContext;
  /** Stop a sequence at this id (defaults to the tokenizer's EOS). */
  readonly eosTokenId?: number | null;
  /** Engine of the decoding steps (default 'tfjs'); 'onnxruntime' where the backbone has it (same tokens, same draws). */
  readonly engine?: EvalEngine;
}

export interface GenerationResult {
  /** Prompt ids (unpadded) followed by generated ids, EOS included when produced. */
  readonly ids: number[];
  readonly newIds: number[];
  readonly text: string;
  /** Sum of -log p(token) under the model's unwarped distribution, over generated tokens. */
  readonly nll: number;
  readonly finishedWithEos: boolean;
}

/** A frozen pretrained decoder with adapter sites. */
export interface Backbone {
  /** Folder or hub id it was loaded from. */
  readonly id: string;
  readonly config: BackboneConfig;
  readonly tokenizer: Tokenizer;
  sites(): readonly LinearSite[];
  /** Tokenizes and left pads; truncates from the left at maxLength so the answer cue survives. */
  encode(texts: readonly string[], options?: { maxLength?: number; addSpecialTokens?: boolean }): EncodedBatch;
  toTensors(batch: EncodedBatch): TokenBatch;
  forward(batch: TokenBatch, options: ForwardOptions): tf.Tensor;
  /** Batched generation with left padding and a KV cache; one result per prompt. */
  generate(batch: EncodedBatch, options: GenerateOptions): Promise<GenerationResult[]>;
  /**
   * Optional engine: why `sampledForward` cannot run now (onnxruntime missing, an installed
   * adapter without an ONNX export, ...), or null when it can.
   */
  sampledForwardUnavailable?(): string | null;
  /**
   * Optional engine: `samples` weight-sampled forwards of the same batch in one onnxruntime run,
   * logits [B, samples, columns.length] at the last position. Draws the same random numbers, in
   * the same order, as `samples` calls of `forward` with the same ctx.
   */
  sampledForward?(batch: TokenBatch, options: SampledForwardOptions): Promise<tf.Tensor3D>;
  /**
   * Optional engine: `samples` generations per prompt ([B][samples]) decoded together in one
   * onnxruntime run per step, as `samples` calls of `generate` with `sampleContext(s)` would make
   * them (each sample's adapters fed for sample s: a wrapper fixes one weight sample per sample).
   */
  sampledGenerate?(batch: EncodedBatch, options: GenerateOptions & { readonly samples: number; readonly sampleContext: (sample: number) => ForwardContext }): Promise<GenerationResult[][]>;
  dispose(): void;
}

/** backbone.sampledForward, bound, or an error naming who needed it. */
export function requireSampledForward(backbone: Backbone, who: string): NonNullable<Backbone['sampledForward']> {
  if (!backbone.sampledForward) throw new Error(`${who}: the backbone ${backbone.id} has no onnxruntime forward (use eval.engine tfjs)`);
  return backbone.sampledForward.bind(backbone);
}

export interface SampledForwardOptions {
  /** Weight samples; the result is [B, samples, C]. */
  readonly samples: number;
  /** Vocabulary columns to read at the last position. */
  readonly columns: readonly number[];
  readonly ctx: ForwardContext;
  /**
   * The context of sample s's forward, when samples have their own (MC dropout draws each
   * pass from its own stream); default: every sample draws from `ctx`, one after the other.
   */
  readonly sampleContext?: (sample: number) => ForwardContext;
}
