import { contextOfSample, type EncodedBatch, type EvalEngine, type GenerateOptions, type GenerationResult, type SampleContext } from '@bayes-peft/core';
import { maskPositions, unpad } from './encode';
import type { DecodingModel } from './decoder-types';
import { OnnxSteps, TfjsSteps, type StepEngine } from './decode-steps';
import { pickToken } from './sampling';
import { checkStopStrings, StopStringWatch } from './stop-strings';

/**
 * Batched generation with a KV cache: one prefill pass over the left-padded prompts, then one
 * token per step for every row until each row has produced EOS, completed a stop string, or
 * made `maxNewTokens` tokens. Draws come from `options.ctx.rng` in row order, so a run is
 * reproducible from its seed. `nll` sums -log softmax of the raw logits (before temperature and
 * top-p) of the kept tokens.
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

/** Where one sequence is. */
interface Row {
  readonly ids: number[];
  nll: number;
  done: boolean;
  eos: boolean;
  /** Set when a stop string ended it: the text cut before it. */
  stopped: { text: string; stop: string } | null;
  readonly watch: StopStringWatch | null;
}

/**
 * `samples` generations per prompt ([B][S]) as `samples` calls of `generate`, one per sample with
 * `sampleContext(s)`, would make them, but decoded together: one onnxruntime run per step for
 * every sample's sequences (a sample axis in front of the batch), each sample drawing its tokens
 * from its own stream. Finished sequences ride along with padding until every one is done.
 */
export async function generateSamples(model: DecodingModel, batch: EncodedBatch, options: GenerateSamplesOptions, engine: EvalEngine): Promise<GenerationResult[][]> {
  const { maxNewTokens, temperature, topP, samples } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`generate: samples must be a positive integer, got ${samples}`);
  if (samples > 1 && engine !== 'onnxruntime') throw new Error('generate: several samples in one decoding need the onnxruntime engine');
  const stop = checkStopStrings(options.stop);
  const eos = new Set<number>(
    options.eosTokenId === undefined ? model.tokenizer.eosTokenIds : options.eosTokenId === null ? [] : [options.eosTokenId],
  );
  // One context object per sample for the whole generation: its rng is a stream that advances.
  const contexts = Array.from({ length: samples }, (_, s) => contextOfSample(options.sampleContext, s));

  const prompts = unpad(batch);
  const rows = prompts.length;
  // [S][B]: sample s's sequence for prompt b.
  const seqs: Row[][] = Array.from({ length: samples }, () =>
    prompts.map(() => ({ ids: [], nll: 0, done: false, eos: false, stopped: null, watch: stop.length ? new StopStringWatch(model.tokenizer, stop) : null })),
  );

  if (maxNewTokens > 0) {
    const mask = batch.mask.map((r) => r.map((m) => (m ? 1 : 0)));
    // Next RoPE position of each row = its number of real tokens so far.
    const lengths = prompts.map((p) => p.length);
    const positions = maskPositions(mask);
    const width = mask[0].length;
    // Positions ever fed: the prompt's, then every token but the last.
    const steps: StepEngine = engine === 'onnxruntime' ? new OnnxSteps(model, contexts, rows, width + maxNewTokens - 1) : new TfjsSteps(model, contexts[0]);
    try {
      let out = await steps.prefill(batch, positions, mask, Math.max(...lengths) - 1);
      for (let step = 0; ; step++) {
        const vocab = out.logits.length / (rows * samples);
        const next: number[][] = [];
        for (let s = 0; s < samples; s++) {
          const tokens: number[] = [];
          for (let r = 0; r < rows; r++) {
            const seq = seqs[s][r];
            if (seq.done) {
              tokens.push(model.tokenizer.padTokenId);
              continue;
            }
            const at = r * samples + s;
            const row = out.logits.subarray(at * vocab, (at + 1) * vocab);
            const token = pickToken(row, temperature, topP, contexts[s].rng);
            // -log softmax(raw logits)[token]: the normaliser came with the logits.
            seq.nll -= row[token] - out.logSumExp[at];
            seq.ids.push(token);
            if (eos.has(token)) {
              seq.done = true;
              seq.eos = true;
            } else if (seq.watch) {
              seq.stopped = seq.watch.push(seq.ids);
              seq.done = seq.stopped !== null;
            }
            tokens.push(token);
          }
          next.push(tokens);
        }
        if (seqs.every((perRow) => perRow.every((q) => q.done)) || step + 1 >= maxNewTokens) break;

        for (const r of mask) r.push(1);
        out = await steps.step(next, lengths.map((n) => [n]), mask, Math.max(...lengths));
        for (let r = 0; r < rows; r++) lengths[r]++;
      }
    } finally {
      steps.dispose();
    }
  }

  return prompts.map((prompt, r) =>
    seqs.map((perRow) => {
      const seq = perRow[r];
      return {
        ids: [...prompt, ...seq.ids],
        newIds: seq.ids,
        text: seq.stopped ? seq.stopped.text : model.tokenizer.decode(seq.ids, { skipSpecialTokens: true }),
        nll: seq.nll,
        finishedWithEos: seq.eos,
        ...(seq.stopped ? { stop: seq.stopped.stop } : {}),
      };
    }),
  );
}
