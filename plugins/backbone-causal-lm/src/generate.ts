import { tf } from '@bayes-peft/tensor';
import type { EncodedBatch, ForwardContext, GenerateOptions, GenerationResult } from '@bayes-peft/core';
import { hostBias } from './attention';
import { unpad } from './encode';
import type { CausalLm, KvCache } from './model';
import type { HostKvCache } from './onnx/onnx-decoder';
import { logProbAt, pickToken } from './sampling';

/**
 * Batched generation with a KV cache: one prefill pass over the left-padded prompts, then one
 * token per step for every row until each row has produced EOS or `maxNewTokens` tokens.
 * Draws come from `options.ctx.rng` in row order, so a run is reproducible from its seed.
 * `nll` sums -log softmax of the raw logits (before temperature and top-p) of the chosen tokens.
 */
export async function generate(model: CausalLm, batch: EncodedBatch, options: GenerateOptions): Promise<GenerationResult[]> {
  const { maxNewTokens, temperature, topP, ctx } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  const eos = new Set<number>(
    options.eosTokenId === undefined ? model.tokenizer.eosTokenIds : options.eosTokenId === null ? [] : [options.eosTokenId],
  );

  const prompts = unpad(batch);
  const rows = prompts.length;
  const newIds: number[][] = prompts.map(() => []);
  const nll = new Array<number>(rows).fill(0);
  const done = new Array<boolean>(rows).fill(false);

  if (maxNewTokens > 0) {
    const mask = batch.mask.map((r) => r.map((m) => (m ? 1 : 0)));
    // Next RoPE position of each row = its number of real tokens so far.
    const lengths = prompts.map((p) => p.length);
    const positions = mask.map((r) => {
      let seen = 0;
      return r.map((m) => Math.max(0, (seen += m) - 1));
    });
    const engine: StepEngine = options.engine === 'onnxruntime' ? new OnnxSteps(model, ctx) : new TfjsSteps(model, ctx);
    try {
      let values = await engine.prefill(batch, positions, mask, Math.max(...lengths) - 1);
      for (let step = 0; ; step++) {
        const vocab = values.length / rows;
        const next: number[] = [];
        for (let r = 0; r < rows; r++) {
          if (done[r]) {
            next.push(model.tokenizer.padTokenId);
            continue;
          }
          const row = values.subarray(r * vocab, (r + 1) * vocab);
          const token = pickToken(row, temperature, topP, ctx.rng);
          nll[r] -= logProbAt(row, token);
          newIds[r].push(token);
          if (eos.has(token)) done[r] = true;
          next.push(token);
        }
        if (done.every(Boolean) || step + 1 >= maxNewTokens) break;

        for (const r of mask) r.push(1);
        values = await engine.step(next, lengths.map((n) => [n]), mask, Math.max(...lengths));
        for (let r = 0; r < rows; r++) lengths[r]++;
      }
    } finally {
      engine.dispose();
    }
  }

  return prompts.map((prompt, r) => {
    const generated = newIds[r];
    return {
      ids: [...prompt, ...generated],
      newIds: generated,
      text: model.tokenizer.decode(generated, { skipSpecialTokens: true }),
      nll: nll[r],
      finishedWithEos: generated.length > 0 && eos.has(generated[generated.length - 1]),
    };
  });
}

/** The model work of a generation: a prefill of the prompts, then one token per row per step; last-position logits [rows, V] on the host. */
interface StepEngine {
  prefill(batch: EncodedBatch, positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array>;
  step(next: number[], positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array>;
  dispose(): void;
}

/** TensorFlow.js: the decoder with a device-side KV cache. */
class TfjsSteps implements StepEngine {
  private cache: KvCache | null = null;

  constructor(
    private readonly model: CausalLm,
    private readonly ctx: ForwardContext,
  ) {}

  async prefill(batch: EncodedBatch, positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array> {
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
      return await readAndDispose(out.logits);
    } finally {
      tokens.inputIds.dispose();
      tokens.attentionMask.dispose();
    }
  }

  async step(next: number[], positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array> {
    const { model, ctx } = this;
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
    return readAndDispose(out.logits);
  }

  dispose(): void {
    if (this.cache) disposeCache(this.cache);
    this.cache = null;
  }
}

/** onnxruntime: the decoder graph's decoding variant, the cache kept on the host between steps. */
class OnnxSteps implements StepEngine {
  private cache: HostKvCache | null = null;

  constructor(
    private readonly model: CausalLm,
    private readonly ctx: ForwardContext,
  ) {}

  async prefill(batch: EncodedBatch, positions: number[][], mask: number[][]): Promise<Float32Array> {
    const out = await this.model.onnxDecodeStep(batch.ids, positions, mask, null, this.ctx);
    this.cache = out.cache;
    return out.logits;
  }

  async step(next: number[], positions: number[][], mask: number[][]): Promise<Float32Array> {
    const out = await this.model.onnxDecodeStep(next.map((t) => [t]), positions, mask, this.cache, this.ctx);
    this.cache = out.cache;
    return out.logits;
  }

  dispose(): void {
    this.cache = null;
  }
}

async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

function disposeCache(cache: KvCache): void {
  for (const layer of cache) {
    layer.k.dispose();
    layer.v.dispose();
  }
}
