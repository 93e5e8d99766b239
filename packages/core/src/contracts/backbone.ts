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
  /**
   * Which weight sample of a sampled call (`sampledForward`, `sampledGenerate`) this pass is;
   * the backbone sets it. Adapters that hold per-sample state (an ensemble's member, a weight
   * draw fixed for a generated sequence) read it; absent outside sampled calls.
   */
  readonly sample?: number;
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
  /** Stop a sequence at this id (defaults to the tokenizer's EOS; null: no EOS stop). */
  readonly eosTokenId?: number | null;
  /**
   * Stop a sequence once its decoded generated text (special tokens skipped) contains any of
   * these non-empty strings. Its `text` is then cut before the earliest occurrence, while
   * `newIds` and `nll` cover the generated tokens up to and including the token that completed
   * the stop string (that token's text may run past the cut: the tokens are what the model
   * produced and was scored on). EOS still stops a sequence, and wins when both happen at once
   * (EOS has no text).
   */
  readonly stop?: readonly string[];
}

/** The context of weight sample s of a sampled call: its random stream (the backbone adds `sample: s`). */
export type SampleContext = (sample: number) => ForwardContext;

export interface SampledForwardOptions {
  /** Weight samples; the result is [B, samples, C]. */
  readonly samples: number;
  /** Vocabulary columns to read at the last position. */
  readonly columns: readonly number[];
  /**
   * Sample s's forward context. Samples may share one stream (BLoB's S passes draw one after
   * the other from the call's stream) or have their own (MC dropout).
   */
  readonly sampleContext: SampleContext;
}

export interface SampledGenerateOptions extends Omit<GenerateOptions, 'ctx'> {
  /** Weight samples: one sequence per prompt each; the result is [B][samples]. */
  readonly samples: number;
  /** Sample s's context: its token draws and its adapters' draws, for the whole sequence. */
  readonly sampleContext: SampleContext;
}

export interface GenerationResult {
  /** Prompt ids (unpadded) followed by `newIds`. */
  readonly ids: number[];
  /**
   * The generated tokens the sequence kept: up to and including EOS when it produced one, up to
   * and including the token that completed a stop string when one stopped it. Exactly the
   * tokens `nll` scores, so a per-token NLL is `nll / newIds.length` (no tokens, with
   * maxNewTokens 0: `nll` is 0 and the per-token figure is the caller's to define).
   */
  readonly newIds: number[];
  /** `newIds` decoded without special tokens, cut before the stop string when one stopped the sequence. */
  readonly text: string;
  /**
   * Sum over `newIds` of -log p(token) under the model's unwarped distribution (softmax of the
   * raw logits: no temperature, no top-p), EOS included; nothing after EOS or a stop string.
   */
  readonly nll: number;
  readonly finishedWithEos: boolean;
  /** The stop string that ended the sequence (GenerateOptions.stop); absent when EOS or the length limit did. */
  readonly stop?: string;
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
  /** Batched generation with left padding and a KV cache, on the evaluation engine; one result per prompt. */
  generate(batch: EncodedBatch, options: GenerateOptions): Promise<GenerationResult[]>;
  /**
   * `samples` weight-sampled forwards of the same batch: logits [B, samples, columns.length] at
   * the last position, sample s computed with `sampleContext(s)` (and `sample: s`), as `samples`
   * calls of `forward` would give them. Runs on the backbone's evaluation engine; wrappers never
   * see which (core's `sampledForwardByPasses` is the TensorFlow.js implementation).
   */
  sampledForward(batch: TokenBatch, options: SampledForwardOptions): Promise<tf.Tensor3D>;
  /**
   * `samples` generations per prompt ([B][samples]), sample s decoded with `sampleContext(s)`
   * (and `sample: s`) for its whole sequence, as `samples` calls of `generate` would make them.
   * On the backbone's evaluation engine (core's `sampledGenerateBySequences` is the plain one).
   */
  sampledGenerate(batch: EncodedBatch, options: SampledGenerateOptions): Promise<GenerationResult[][]>;
  /**
   * Why the backbone cannot run its sampled calls and generation on `engine` now (runtime
   * missing, an installed adapter it cannot export), or null when it can. Absent: TensorFlow.js
   * only.
   */
  engineUnavailable?(engine: EvalEngine): string | null;
  /** Runs later sampled calls and generations on `engine` (the runner picks it once per run); `forward` is always TensorFlow.js. */
  useEngine?(engine: EvalEngine): void;
  dispose(): void;
}

/**
 * What a backbone plugin's `create` makes: loading is async (weights are read from disk or the
 * hub), so the run session awaits `load()` before the wrapper that needs the model is made.
 */
export interface BackboneLoader {
  load(): Promise<Backbone>;
}
