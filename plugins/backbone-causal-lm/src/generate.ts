import { tf } from '@bayes-peft/tensor';
import type { EncodedBatch, GenerateOptions, GenerationResult } from '@bayes-peft/core';
import { hostBias } from './attention';
import { unpad } from './encode';
import type { CausalLm, KvCache } from './model';
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
  const hidden = model.config.hiddenSize;
  const window = model.config.slidingWindow;

  if (maxNewTokens > 0) {
    const mask = batch.mask.map((r) => r.map((m) => (m ? 1 : 0)));
    const width = mask[0].length;
    // Next RoPE position of each row = its number of real tokens so far.
    const lengths = prompts.map((p) => p.length);
    let cache: KvCache | null = null;
    let logits: tf.Tensor2D | null = null;
    try {
      const tokens = model.toTensors(batch);
      try {
        const positions = mask.map((r) => {
          let seen = 0;
          return r.map((m) => Math.max(0, (seen += m) - 1));
        });
        const out = tf.tidy(() => {
          const { hidden: h, cache: c } = model.decode(
            {
              ids: tokens.inputIds,
              positions: tf.tensor2d(positions, [rows, width], 'int32'),
              maxPosition: Math.max(...lengths) - 1,
              bias: hostBias(mask, width, window),
              past: null,
            },
            ctx,
          );
          const last = tf.reshape(tf.slice(h, [0, width - 1, 0], [rows, 1, hidden]), [rows, hidden]) as tf.Tensor2D;
          return { logits: model.head(last, ctx), cache: c };
        });
        cache = out.cache;
        logits = out.logits;
      } finally {
        tokens.inputIds.dispose();
        tokens.attentionMask.dispose();
      }

      for (let step = 0; ; step++) {
        const current: tf.Tensor2D = logits!;
        const values = (await current.data()) as Float32Array;
        const vocab = current.shape[1];
        current.dispose();
        logits = null;
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
        const stepPositions = lengths.map((n) => [n]);
        const past: KvCache = cache!;
        const out = tf.tidy(() => {
          const { hidden: h, cache: c } = model.decode(
            {
              ids: tf.tensor2d(next, [rows, 1], 'int32'),
              positions: tf.tensor2d(stepPositions, [rows, 1], 'int32'),
              maxPosition: Math.max(...lengths),
              bias: hostBias(mask, 1, window),
              past,
            },
            ctx,
          );
          return { logits: model.head(tf.reshape(h, [rows, hidden]) as tf.Tensor2D, ctx), cache: c };
        });
        disposeCache(past);
        cache = out.cache;
        logits = out.logits;
        for (let r = 0; r < rows; r++) lengths[r]++;
      }
    } finally {
      if (cache) disposeCache(cache);
      logits?.dispose();
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

function disposeCache(cache: KvCache): void {
  for (const layer of cache) {
    layer.k.dispose();
    layer.v.dispose();
  }
}
