import { tf } from '@bayes-peft/tensor';
import {
  checkSamples,
  sampledForwardByPasses,
  sampledGenerateBySequences,
  type Backbone,
  type EncodedBatch,
  type EvalEngine,
  type ForwardContext,
  type ForwardOptions,
  type GenerateOptions,
  type GenerationResult,
  type LinearSite,
  type SampledForwardOptions,
  type SampledGenerateOptions,
  type TokenBatch,
} from '@bayes-peft/core';
import { causalBias } from './attention';
import type { CausalLmConfig } from './config';
import { batchToTensors, encodeTexts } from './encode';
import { generate, generateSamples } from './generate';
import type { DecoderInput, DecodingModel, KvCache } from './decoder-types';
import type { RopeInputs } from './layer';
import { disposeFrozen, frozenRows, Linear } from './linear';
import { rmsNorm } from './norm';
import type { HostKvCache } from './onnx/host-kv-cache';
import { OnnxDecoder, type OnnxRunOptions } from './onnx/onnx-decoder';
import { halfSwapMatrix, inverseFrequencies, RopeTables } from './rope';
import type { HfTokenizer } from './tokenizer';
import type { ModelWeights } from './weights';

export type { KvCache, DecoderInput } from './decoder-types';

/**
 * A Llama-family decoder (Llama 2/3, Mistral, Qwen2) with an adapter site on every projection
 * and on the head. Weights are frozen float32 tensors; adapters installed on `sites()` by a
 * wrapper take part in every forward and generation.
 */
export class CausalLm implements Backbone, DecodingModel {
  /** Default `maxLength` of encode() (left truncation). */
  readonly maxSeqLen: number;
  private readonly siteList: readonly Linear[];
  private readonly rope: RopeTables;
  private readonly onnx: OnnxDecoder;
  /** The engine of sampled calls and generation (the runner's choice; forward is always TensorFlow.js). */
  private evalEngine: EvalEngine = 'tfjs';
  private disposed = false;

  constructor(
    readonly id: string,
    readonly config: CausalLmConfig,
    readonly tokenizer: HfTokenizer,
    private readonly weights: ModelWeights,
    options: { maxSeqLen?: number } = {},
  ) {
    this.maxSeqLen = options.maxSeqLen ?? config.maxPositionEmbeddings;
    this.siteList = [...weights.layers.flatMap((l) => l.linears()), weights.lmHead];
    const invFreq = inverseFrequencies(config);
    this.rope = new RopeTables(invFreq, config.headDim);
    this.onnx = new OnnxDecoder(config, weights, invFreq, () => this.siteList);
  }

  /** Every q/k/v/o/gate/up/down projection by layer, then lm_head, under their Hugging Face names. */
  sites(): readonly LinearSite[] {
    return this.siteList;
  }

  site(name: string): LinearSite {
    const s = this.siteList.find((x) => x.name === name);
    if (!s) throw new Error(`${this.id} has no site '${name}'`);
    return s;
  }

  encode(texts: readonly string[], options: { maxLength?: number; addSpecialTokens?: boolean } = {}): EncodedBatch {
    return encodeTexts(this.tokenizer, texts, { maxLength: options.maxLength ?? this.maxSeqLen, addSpecialTokens: options.addSpecialTokens });
  }

  toTensors(batch: EncodedBatch): TokenBatch {
    this.assertLive();
    return batchToTensors(batch, this.config.vocabSize);
  }

  /**
   * Logits of a left-padded batch: [B, V] at the last position ('last'), [B, columns.length]
   * when `columns` is given, or [B, T, V] ('all'). RoPE positions come from the mask
   * (cumsum - 1), so a padded prompt gets the logits it gets alone. Differentiable with respect
   * to adapter variables; every intermediate is released.
   */
  forward(batch: TokenBatch, options: ForwardOptions): tf.Tensor {
    this.assertLive();
    const { inputIds, attentionMask } = batch;
    if (inputIds.rank !== 2 || attentionMask.rank !== 2 || inputIds.shape.some((d, i) => d !== attentionMask.shape[i])) {
      throw new Error(`forward: inputIds [${inputIds.shape}] and attentionMask [${attentionMask.shape}] must both be [B, T]`);
    }
    if (options.columns && options.output !== 'last') throw new Error("forward: 'columns' needs output 'last'");
    return tf.tidy(() => {
      const [b, t] = inputIds.shape;
      const mask = attentionMask.dtype === 'int32' ? attentionMask : tf.cast(attentionMask, 'int32');
      // transformers' generate: position_ids = cumsum(mask) - 1 (padding clamped to 0, never read).
      const positions = tf.maximum(tf.sub(tf.cumsum(mask, 1), tf.scalar(1, 'int32')), tf.scalar(0, 'int32')) as tf.Tensor2D;
      const lastOnly = options.output !== 'all';
      const { hidden } = this.decode(
        { ids: inputIds, positions, maxPosition: t - 1, bias: causalBias(mask, this.config.slidingWindow), past: null },
        options.ctx,
        lastOnly,
      );
      if (!lastOnly) return this.weights.lmHead.apply(hidden, options.ctx);
      // The last layer computed the last position only: hidden is [B, 1, hidden].
      const last = tf.reshape(hidden, [b, this.config.hiddenSize]) as tf.Tensor2D;
      return this.head(last, options.ctx, options.columns);
    });
  }

  /** Null when `engine` can run the sampled calls with the adapters installed now, else why not. */
  engineUnavailable(engine: EvalEngine): string | null {
    return engine === 'onnxruntime' ? this.onnx.unavailable() : null;
  }

  /** Sampled forwards and generations run on `engine` from now on. */
  useEngine(engine: EvalEngine): void {
    const reason = this.engineUnavailable(engine);
    if (reason) throw new Error(`${this.id}: cannot evaluate on ${engine}: ${reason}`);
    this.evalEngine = engine;
  }

  /** The engine sampled calls and generations run on. */
  get engine(): EvalEngine {
    return this.evalEngine;
  }

  /**
   * `samples` weight-sampled forwards: [B, samples, columns.length] logits at the last position,
   * the numbers `samples` calls of forward(output 'last', columns) with `sampleContext(s)` give
   * (same draws, float32 rounding aside). On onnxruntime: one graph run for all samples.
   */
  async sampledForward(batch: TokenBatch, options: SampledForwardOptions): Promise<tf.Tensor3D> {
    this.assertLive();
    checkSamples('sampledForward', options.samples);
    if (this.evalEngine === 'tfjs') return sampledForwardByPasses(this, batch, options);
    return (await this.onnx.run(batch, { output: 'columns', ...options })) as tf.Tensor3D;
  }

  /** The onnxruntime forward with every position's logits ([B, samples, T, V]): for parity checks and tools. */
  async onnxForward(batch: TokenBatch, options: Omit<Extract<OnnxRunOptions, { output: 'all' }>, 'output'>): Promise<tf.Tensor4D> {
    this.assertLive();
    return (await this.onnx.run(batch, { output: 'all', ...options })) as tf.Tensor4D;
  }

  /** One incremental decoding step through onnxruntime (generation on the onnxruntime engine). */
  onnxDecodeStep(...args: Parameters<OnnxDecoder['decodeStep']>): ReturnType<OnnxDecoder['decodeStep']> {
    this.assertLive();
    return this.onnx.decodeStep(...args);
  }

  /** The host cache of an onnxruntime decoding (its buffers pooled across generations). */
  onnxKvCache(samples: number, rows: number, capacity: number): HostKvCache {
    this.assertLive();
    return this.onnx.kvCache(samples, rows, capacity);
  }

  /** Which onnxruntime provider runs the graphs (after the first run), for start-up lines. */
  get onnxDescription(): string | null {
    return this.onnx.description;
  }

  async generate(batch: EncodedBatch, options: GenerateOptions): Promise<GenerationResult[]> {
    this.assertLive();
    return generate(this, batch, options, this.evalEngine);
  }

  /**
   * `samples` generations per prompt ([B][samples]): on onnxruntime decoded together, one run
   * per step for every sample (see generateSamples); on TensorFlow.js one sample after another.
   */
  async sampledGenerate(batch: EncodedBatch, options: SampledGenerateOptions): Promise<GenerationResult[][]> {
    this.assertLive();
    if (this.evalEngine === 'tfjs') return sampledGenerateBySequences(this, batch, options);
    return generateSamples(this, batch, options, 'onnxruntime');
  }

  /**
   * Embedding, decoder layers and final norm: hidden states [B, T, hidden]. With `past`, the
   * inputs continue the cached sequence; the returned cache covers past and new positions.
   * With `lastOnly` the last layer works on the last position only and hidden is [B, 1, hidden]
   * (the cache still covers every position).
   */
  decode(input: DecoderInput, ctx: ForwardContext, lastOnly = false): { hidden: tf.Tensor3D; cache: KvCache } {
    const c = this.config;
    const { cos, sin } = this.rope.lookup(input.positions, input.maxPosition);
    const scale = 1 / Math.sqrt(c.headDim);
    const rope: RopeInputs = { cos, sin, qCos: tf.mul(cos, scale), qSin: tf.mul(sin, scale), swap: halfSwapMatrix(c.headDim) };
    let h = this.embed(input.ids);
    const cache: KvCache = [];
    const lastLayer = this.weights.layers.length - 1;
    this.weights.layers.forEach((layer, i) => {
      // One scope per layer: its intermediates are freed as soon as it is done instead of at the
      // end of the whole forward, so a forward holds one layer's work at a time (and a training
      // forward only what the gradient tape saved). The peak heap of a random-40M forward was
      // all eight layers' intermediates; the wasm heap keeps such a peak for the process' life.
      const out = tf.tidy(() => layer.forward(h, rope, input.bias, ctx, input.past ? input.past[i] : null, lastOnly && i === lastLayer));
      h = out.h;
      cache.push(out.cache);
    });
    return { hidden: rmsNorm(h, this.weights.norm, c.rmsNormEps) as tf.Tensor3D, cache };
  }

  /** Token embeddings [B, T, hidden] of int32 ids [B, T]. */
  private embed(ids: tf.Tensor2D): tf.Tensor3D {
    const [b, t] = ids.shape;
    const hidden = this.config.hiddenSize;
    const e = this.weights.embed;
    if (e.place === 'host') {
      // Host rows widened on the host: only B x T rows of the table are ever touched.
      return tf.reshape(frozenRows(e, ids.dataSync() as Int32Array), [b, t, hidden]);
    }
    if (e.layout === 'weight') return tf.gather(e.tensor, ids) as tf.Tensor as tf.Tensor3D;
    // Tied weights are stored as the head's kernel [hidden, vocab]: gather columns, then transpose.
    const columns = tf.gather(e.tensor, tf.reshape(ids, [b * t]), 1);
    return tf.reshape(tf.transpose(columns), [b, t, hidden]);
  }

  /**
   * Head logits of final hidden states [B, hidden]. For a subset of columns only those columns
   * of the frozen head are multiplied ([B, C] instead of [B, V]: the full product reads the whole
   * 62.5 MiB head of a 32k vocabulary for 4 rows). An lm_head adapter's delta is still computed
   * over the full vocabulary, as the Adapter contract has it (for LoRA a cheap rank-r product),
   * and its columns picked by a one-hot matmul, which (unlike gather) has a gradient every
   * backend implements. Column c is x W_c + delta_c either way.
   */
  head(last: tf.Tensor2D, ctx: ForwardContext, columns?: readonly number[]): tf.Tensor2D {
    const lmHead = this.weights.lmHead;
    if (!columns) return lmHead.apply(last, ctx) as tf.Tensor2D;
    const v = lmHead.outFeatures;
    for (const col of columns) {
      if (!Number.isInteger(col) || col < 0 || col >= v) throw new Error(`forward: column ${col} is outside the vocabulary [0, ${v})`);
    }
    const f = lmHead.frozen;
    let y =
      f.place === 'device' && f.layout === 'kernel'
        ? tf.matMul(last, tf.gather(f.tensor, tf.tensor1d(columns as number[], 'int32'), 1) as tf.Tensor2D)
        : tf.matMul(last, frozenRows(f, columns), false, true);
    if (lmHead.bias) y = tf.add(y, tf.gather(lmHead.bias, tf.tensor1d(columns as number[], 'int32')));
    if (!lmHead.adapter) return y as tf.Tensor2D;
    const select = new Float32Array(v * columns.length);
    columns.forEach((col, j) => (select[col * columns.length + j] = 1));
    const delta = lmHead.adapter.delta(last, ctx) as tf.Tensor2D;
    return tf.add(y, tf.matMul(delta, tf.tensor2d(select, [v, columns.length]))) as tf.Tensor2D;
  }

  /** Frees the weights and RoPE tables. Adapters belong to their wrapper and are left alone. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.onnx.dispose();
    for (const layer of this.weights.layers) layer.dispose();
    // A tied head shares the embedding's matrix: freed once.
    this.weights.lmHead.dispose(this.weights.lmHead.frozen === this.weights.embed);
    disposeFrozen(this.weights.embed);
    this.weights.norm.dispose();
    this.rope.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`backbone ${this.id} has been disposed`);
  }
}
