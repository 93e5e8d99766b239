import { tf } from '@bayes-peft/tensor';
import { contextOfSample, type EncodedBatch, type EvalEngine, type ForwardContext, type GenerateOptions, type GenerationResult, type SampleContext } from '@bayes-peft/core';
import { hostBias } from './attention';
import { maskPositions, unpad } from './encode';
import type { DecodingModel, KvCache } from './decoder-types';
import type { HostKvCache } from './onnx/onnx-decoder';
import { logProbAt, pickToken } from './sampling';

/**
 * Batched generation with a KV cache: one prefill pass over the left-padded prompts, then one
 * token per step for every row until each row has produced EOS or `maxNewTokens` tokens.
 * Draws come from `options.ctx.rng` in row order, so a run is reproducible from its seed.
 * `nll` sums -log softmax of the raw logits (before temperature and top-p) of the chosen tokens.
 */
export async function generate(model: DecodingModel, batch: EncodedBatch, options: GenerateOptions, engine: EvalEngine = 'tfjs'): Promise<GenerationResult[]> {
  return (await generateSamples(model, batch, { ...options, samples: 1, sampleContext: () => options.ctx }, engine)).map((perSample) => perSample[0]);
}

export interface GenerateSamplesOptions extends Omit<GenerateOptions, 'ctx'> {
  /** Weight samples, one sequence each per prompt (more than 1: onnxruntime only). */
  readonly samples: number;
  /** Sample s's context: its token draws and its adapters' inputs. */
  readonly sampleContext: SampleContext;
}

/**
 * `samples` generations per prompt ([B][S]) as `samples` calls of `generate`, one per sample with
 * `sampleContext(s)`, would make them, but decoded together: one onnxruntime run per step for
 * every sample's sequences (a sample axis in front of the batch), each sample drawing its tokens
 * from its own stream. Finished samples ride along with padding until every row is done.
 */
export async function generateSamples(model: DecodingModel, batch: EncodedBatch, options: GenerateSamplesOptions, engine: EvalEngine): Promise<GenerationResult[][]> {
  const { maxNewTokens, temperature, topP, samples } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`generate: samples must be a positive integer, got ${samples}`);
  if (samples > 1 && engine !== 'onnxruntime') throw new Error('generate: several samples in one decoding need the onnxruntime engine');
  const eos = new Set<number>(
    options.eosTokenId === undefined ? model.tokenizer.eosTokenIds : options.eosTokenId === null ? [] : [options.eosTokenId],
  );
  // One context object per sample for the whole generation: its rng is a stream that advances.
  const contexts = Array.from({ length: samples }, (_, s) => contextOfSample(options.sampleContext, s));

  const prompts = unpad(batch);
  const rows = prompts.length;
  const grid = <T>(f: () => T): T[][] => Array.from({ length: samples }, () => Array.from({ length: rows }, f));
  const newIds = grid<number[]>(() => []);
  const nll = grid(() => 0);
  const done = grid(() => false);

  if (maxNewTokens > 0) {
    const mask = batch.mask.map((r) => r.map((m) => (m ? 1 : 0)));
    // Next RoPE position of each row = its number of real tokens so far.
    const lengths = prompts.map((p) => p.length);
    const positions = maskPositions(mask);
    const steps: StepEngine = engine === 'onnxruntime' ? new OnnxSteps(model, contexts) : new TfjsSteps(model, contexts[0]);
    try {
      // Logits [B, S, V]: row b of sample s at (b * S + s) * V.
      let values = await steps.prefill(batch, positions, mask, Math.max(...lengths) - 1);
      for (let step = 0; ; step++) {
        const vocab = values.length / (rows * samples);
        const next: number[][] = [];
        for (let s = 0; s < samples; s++) {
          const tokens: number[] = [];
          for (let r = 0; r < rows; r++) {
            if (done[s][r]) {
              tokens.push(model.tokenizer.padTokenId);
              continue;
            }
            const at = (r * samples + s) * vocab;
            const row = values.subarray(at, at + vocab);
            const token = pickToken(row, temperature, topP, contexts[s].rng);
            nll[s][r] -= logProbAt(row, token);
            newIds[s][r].push(token);
            if (eos.has(token)) done[s][r] = true;
            tokens.push(token);
          }
          next.push(tokens);
        }
        if (done.every((d) => d.every(Boolean)) || step + 1 >= maxNewTokens) break;

        for (const r of mask) r.push(1);
        values = await steps.step(next, lengths.map((n) => [n]), mask, Math.max(...lengths));
        for (let r = 0; r < rows; r++) lengths[r]++;
      }
    } finally {
      steps.dispose();
    }
  }

  return prompts.map((prompt, r) =>
    Array.from({ length: samples }, (_, s) => {
      const generated = newIds[s][r];
      return {
        ids: [...prompt, ...generated],
        newIds: generated,
        text: model.tokenizer.decode(generated, { skipSpecialTokens: true }),
        nll: nll[s][r],
        finishedWithEos: generated.length > 0 && eos.has(generated[generated.length - 1]),
      };
    }),
  );
}

/**
 * The model work of a generation: a prefill of the prompts, then one token per row and sample per
 * step (`next` [S][B]); last-position logits [B, S, V] on the host.
 */
interface StepEngine {
  prefill(batch: EncodedBatch, positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array>;
  step(next: number[][], positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array>;
  dispose(): void;
}

/** TensorFlow.js: the decoder with a device-side KV cache. */
class TfjsSteps implements StepEngine {
  private cache: KvCache | null = null;

  constructor(
    private readonly model: DecodingModel,
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

  async step(nextPerSample: number[][], positions: number[][], mask: number[][], maxPosition: number): Promise<Float32Array> {
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
    return readAndDispose(out.logits);
  }

  dispose(): void {
    if (this.cache) disposeCache(this.cache);
    this.cache = null;
  }
}

/** onnxruntime: the decoder graph's decoding variant, every sample's sequences in one run, the cache on the host between steps. */
class OnnxSteps implements StepEngine {
  private cache: HostKvCache | null = null;

  constructor(
    private readonly model: DecodingModel,
    private readonly contexts: readonly ForwardContext[],
  ) {}

  async prefill(batch: EncodedBatch, positions: number[][], mask: number[][]): Promise<Float32Array> {
    return this.run(this.contexts.map(() => batch.ids), positions, mask);
  }

  async step(next: number[][], positions: number[][], mask: number[][]): Promise<Float32Array> {
    return this.run(next.map((tokens) => tokens.map((t) => [t])), positions, mask);
  }

  dispose(): void {
    this.cache = null;
  }

  private async run(ids: number[][][], positions: number[][], mask: number[][]): Promise<Float32Array> {
    const contexts = this.contexts;
    const out = await this.model.onnxDecodeStep(ids, positions, mask, this.cache, { sampleContext: (s) => contexts[s] });
    this.cache = out.cache;
    return out.logits;
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
