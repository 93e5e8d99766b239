import { tf } from '@bayes-peft/tensor';
import type { Backbone, EncodedBatch, ForwardContext, GenerationResult, SampledForwardOptions, SampledGenerateOptions, SampleContext, TokenBatch } from './backbone';

/**
 * Sample s's context with its index set (what adapters with per-sample state read). A context
 * that names its sample already keeps it: a one-sample call made for sample s of a larger one.
 */
export function contextOfSample(sampleContext: SampleContext, sample: number): ForwardContext {
  const ctx = sampleContext(sample);
  return { ...ctx, sample: ctx.sample ?? sample };
}

/** Rejects a sample count that is not a positive integer, naming the call. */
export function checkSamples(who: string, samples: number): void {
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`${who}: samples must be a positive integer, got ${samples}`);
}

/**
 * `Backbone.sampledForward` on TensorFlow.js: one `forward` per sample, stacked to
 * [B, samples, C]. What a backbone without a faster engine implements its sampled forward with.
 */
export async function sampledForwardByPasses(backbone: Pick<Backbone, 'forward'>, batch: TokenBatch, options: SampledForwardOptions): Promise<tf.Tensor3D> {
  checkSamples('sampledForward', options.samples);
  return tf.tidy(() => {
    const passes: tf.Tensor[] = [];
    for (let s = 0; s < options.samples; s++) {
      passes.push(backbone.forward(batch, { output: 'last', columns: options.columns, ctx: contextOfSample(options.sampleContext, s) }));
    }
    return tf.stack(passes, 1) as tf.Tensor3D;
  });
}

/**
 * `Backbone.sampledGenerate` as one `generate` per sample, one after the other ([B][samples]).
 * What a backbone without batched sample decoding implements its sampled generation with.
 */
export async function sampledGenerateBySequences(backbone: Pick<Backbone, 'generate'>, batch: EncodedBatch, options: SampledGenerateOptions): Promise<GenerationResult[][]> {
  checkSamples('sampledGenerate', options.samples);
  const { samples, sampleContext, ...rest } = options;
  const out: GenerationResult[][] = batch.ids.map(() => []);
  for (let s = 0; s < samples; s++) {
    const results = await backbone.generate(batch, { ...rest, ctx: contextOfSample(sampleContext, s) });
    results.forEach((r, b) => out[b].push(r));
  }
  return out;
}
