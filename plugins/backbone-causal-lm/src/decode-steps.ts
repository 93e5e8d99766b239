/**
 * The model work of a generation on each engine: a prefill of the prompts, then one token per
 * row and sample per step. Both return the last position's logits [B, S, V] (row b of sample s
 * at (b * S + s) * V) and their log-sum-exp [B, S] (the NLL's normaliser, reduced where the
 * logits are made rather than on the host between steps).
 */
import { tf } from '@bayes-peft/tensor';
import type { EncodedBatch, ForwardContext } from '@bayes-peft/core';
import { hostBias } from './attention';
import type { DecodingModel, KvCache } from './decoder-types';
import type { HostKvCache } from './onnx/host-kv-cache';

export interface StepOutput {
  readonly logits: Float32Array;
  readonly logSumExp: Float32Array;
}

export interface StepEngine {
  /** The prompts: `positions` [B][T] RoPE positions, `mask` [B][T]. */
  prefill(batch: EncodedBatch, positions: number[][], mask: number[][], maxPosition: number): Promise<StepOutput>;
  /** `next` [S][B] tokens at `positions` [B][1]; `mask` [B][positions so far], the new one last. */
  step(next: number[][], positions: number[][], mask: number[][], maxPosition: number): Promise<StepOutput>;
  dispose(): void;
}

/** TensorFlow.js: the decoder with a device-side KV cache, one sample. */
export class TfjsSteps implements StepEngine {
  private cache: KvCache | null = null;

  constructor(
    private readonly model: DecodingModel,
    private readonly ctx: ForwardContext,
  ) {}

  async prefill(batch: EncodedBatch, positions: number[][], mask: number[][], maxPosition: number): Promise<StepOutput> {
    const { model, ctx } = this;
    const rows = positions.length;
    const width = mask[0].length;
    const hidden = model.config.hiddenSize;
    const tokens = model.toTensors(batch);
    try {
      const out = tf.tidy(() => {
        const { hidden: h, cache } = model.decode(
          { ids: tokens.inputIds, positions: tf.tensor2d(positions, [rows, width], 'int32'), maxPosition, bias: hostBias(mask, width, model.config.slidingWindow), past: null },
          ctx,
        );
        const last = tf.reshape(tf.slice(h, [0, width - 1, 0], [rows, 1, hidden]), [rows, hidden]) as tf.Tensor2D;
        return { logits: model.head(last, ctx), cache };
      });
      this.cache = out.cache;
      return await readLogits(out.logits);
    } finally {
      tokens.inputIds.dispose();
      tokens.attentionMask.dispose();
    }
  }

  async step(nextPerSample: number[][], positions: number[][], mask: number[][], maxPosition: number): Promise<StepOutput> {
    const { model, ctx } = this;
    const next = nextPerSample[0]; // one sample on this engine
    const rows = next.length;
    const past = this.cache!;
    const out = tf.tidy(() => {
      const { hidden: h, cache } = model.decode(
        { ids: tf.tensor2d(next, [rows, 1], 'int32'), positions: tf.tensor2d(positions, [rows, 1], 'int32'), maxPosition, bias: hostBias(mask, 1, model.config.slidingWindow), past },
        ctx,
      );
      return { logits: model.head(tf.reshape(h, [rows, model.config.hiddenSize]) as tf.Tensor2D, ctx), cache };
    });
    disposeCache(past);
    this.cache = out.cache;
    return readLogits(out.logits);
  }

  dispose(): void {
    if (this.cache) disposeCache(this.cache);
    this.cache = null;
  }
}

/**
 * onnxruntime: the decoder graph's decoding variant, every sample's sequences in one run; the
 * cache on the host, sized once for `capacity` positions (see HostKvCache).
 */
export class OnnxSteps implements StepEngine {
  private readonly cache: HostKvCache;

  constructor(
    private readonly model: DecodingModel,
    private readonly contexts: readonly ForwardContext[],
    rows: number,
    capacity: number,
  ) {
    this.cache = model.onnxKvCache(contexts.length, rows, capacity);
  }

  async prefill(batch: EncodedBatch, positions: number[][], mask: number[][]): Promise<StepOutput> {
    return this.run(this.contexts.map(() => batch.ids), positions, mask);
  }

  async step(next: number[][], positions: number[][], mask: number[][]): Promise<StepOutput> {
    return this.run(next.map((tokens) => tokens.map((t) => [t])), positions, mask);
  }

  dispose(): void {
    this.cache.release();
  }

  private run(ids: number[][][], positions: number[][], mask: number[][]): Promise<StepOutput> {
    const contexts = this.contexts;
    return this.model.onnxDecodeStep(ids, positions, mask, this.cache, { sampleContext: (s) => contexts[s] });
  }
}

/** Logits [B, V] and their log-sum-exp [B] read back; both freed. */
async function readLogits(logits: tf.Tensor): Promise<StepOutput> {
  const lse = tf.tidy(() => tf.logSumExp(logits, 1));
  try {
    const [l, s] = await Promise.all([logits.data(), lse.data()]);
    return { logits: l as Float32Array, logSumExp: s as Float32Array };
  } finally {
    tf.dispose([logits, lse]);
  }
}

function disposeCache(cache: KvCache): void {
  for (const layer of cache) {
    layer.k.dispose();
    layer.v.dispose();
  }
}
