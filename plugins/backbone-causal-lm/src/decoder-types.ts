/**
 * Types shared by the model and the decoding loop (generate.ts): the model implements
 * DecodingModel, generate works against it, so neither imports the other.
 */
import type { tf } from '@bayes-peft/tensor';
import type { EncodedBatch, ForwardContext, SampleContext, TokenBatch } from '@bayes-peft/core';
import type { CausalLmConfig } from './config';
import type { LayerCache } from './layer';
import type { HostKvCache } from './onnx/host-kv-cache';
import type { HfTokenizer } from './tokenizer';

/** Per-layer keys and values of an incremental decode. */
export type KvCache = LayerCache[];

/** Inputs of one decoder pass; everything on the device is owned by the caller's tidy. */
export interface DecoderInput {
  /** int32 [B, T]. */
  readonly ids: tf.Tensor2D;
  /** int32 [B, T] RoPE positions. */
  readonly positions: tf.Tensor2D;
  /** A host-side upper bound of `positions`, to size the RoPE tables without a read-back. */
  readonly maxPosition: number;
  /** [B, 1, T, Tpast + T] additive attention bias. */
  readonly bias: tf.Tensor4D;
  readonly past: KvCache | null;
}

/** What the decoding loop needs of the model (CausalLm implements it). */
export interface DecodingModel {
  readonly config: CausalLmConfig;
  readonly tokenizer: HfTokenizer;
  toTensors(batch: EncodedBatch): TokenBatch;
  decode(input: DecoderInput, ctx: ForwardContext, lastOnly?: boolean): { hidden: tf.Tensor3D; cache: KvCache };
  head(last: tf.Tensor2D, ctx: ForwardContext, columns?: readonly number[]): tf.Tensor2D;
  /** One incremental decoding step through onnxruntime, every sample's sequences in one run; appends to `cache`. */
  onnxDecodeStep(
    ids: readonly (readonly (readonly number[])[])[],
    positions: readonly (readonly number[])[],
    mask: readonly (readonly number[])[],
    cache: HostKvCache,
    options: { readonly sampleContext: SampleContext },
  ): Promise<{ logits: Float32Array; logSumExp: Float32Array }>;
  /** An empty host cache for onnxDecodeStep (release() it when the decoding ends). */
  onnxKvCache(samples: number, rows: number, capacity: number): HostKvCache;
}
