import type { Backbone, EvalPhase, GenerationResult, OpenExample, Rng, Wrapper } from '@bayes-peft/core';
import { crashPoint } from '@bayes-peft/env';
import { chunk } from './mcq-batch';
import type { Progress } from './progress';
import type { GenerationSpec } from './spec/schema';

/** One sampled answer as generations.jsonl keeps it: enough to score it again without the model. */
export interface GeneratedAnswer {
  readonly text: string;
  /** Generated token ids (EOS included when it was generated). */
  readonly ids: readonly number[];
  /** -log p(answer | prompt) in nats under the model's unwarped distribution, up to and including EOS. */
  readonly nll: number;
  /** Tokens `nll` covers (>= 1 whenever anything was generated). */
  readonly tokens: number;
  readonly finishedWithEos: boolean;
}

/** One question and its S answers: a generations.jsonl row. */
export interface GeneratedQuestion {
  readonly id: string;
  readonly question: string;
  readonly references: readonly string[];
  /** The question's passage, when the dataset has one (passed on to the judge). */
  readonly context?: string;
  readonly answers: readonly GeneratedAnswer[];
}

export interface GenerateAnswersArgs {
  readonly wrapper: Wrapper;
  readonly backbone: Backbone;
  readonly examples: readonly OpenExample[];
  readonly generation: GenerationSpec;
  readonly phase: EvalPhase;
  readonly batchSize: number;
  readonly maxSeqLen: number;
  /** The stream of this evaluation; batch k draws its tokens from its child `batch-<k>`, whatever other batches drew. */
  readonly rng: Rng;
  /** Questions already generated (a resumed evaluation): their batches are skipped. */
  readonly done?: ReadonlySet<string>;
  /** Called with each batch's questions as soon as they are generated (generations.jsonl grows batch by batch). */
  readonly onBatch?: (questions: readonly GeneratedQuestion[]) => Promise<void>;
  readonly progress?: Progress;
}

/**
 * `generation.samples[phase]` answers per question from the wrapper, a batch of questions at a
 * time (all their samples decoded together on the run's engine, left padded, the weight sample
 * fixed per sequence). Returns the newly generated questions in order.
 */
export async function generateAnswers(args: GenerateAnswersArgs): Promise<GeneratedQuestion[]> {
  const { generation, phase } = args;
  const samples = generation.samples[phase];
  const batches = chunk(args.examples, args.batchSize);
  const task = args.progress?.start(phase === 'final' ? 'generate' : 'generate (intermediate)', args.examples.length, 'q');
  const out: GeneratedQuestion[] = [];
  let seen = 0;
  try {
    for (const [k, examples] of batches.entries()) {
      seen += examples.length;
      if (args.done && examples.every((e) => args.done!.has(e.id))) {
        task?.update(seen);
        continue;
      }
      const encoded = args.backbone.encode(
        examples.map((e) => e.prompt),
        { maxLength: args.maxSeqLen, addSpecialTokens: true },
      );
      const results = await args.wrapper.generate(encoded, {
        maxNewTokens: generation.maxNewTokens,
        temperature: generation.temperature,
        topP: generation.topP,
        ...(generation.stop.length ? { stop: generation.stop } : {}),
        ctx: { training: false, rng: args.rng.child(`batch-${k}`) },
        phase,
        samples,
      });
      const questions = examples.map((e, i) => ({ id: e.id, question: e.question, references: e.references, ...(e.context === undefined ? {} : { context: e.context }), answers: results[i].map(answerOf) }));
      out.push(...questions);
      await args.onBatch?.(questions);
      task?.update(seen);
      crashPoint('eval-batch');
    }
  } finally {
    task?.stop();
  }
  return out;
}

function answerOf(r: GenerationResult): GeneratedAnswer {
  return { text: r.text, ids: r.newIds, nll: r.nll, tokens: r.newIds.length, finishedWithEos: r.finishedWithEos };
}
