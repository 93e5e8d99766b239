import type { EntailmentPair, EntailmentScores, Judge, JudgeItem, JudgeVerdict, RunContext } from '@bayes-peft/core';
import { NliModelError } from './errors';
import { leaseModel } from './model-cache';
import { locateNliModel, modelKey } from './model-files';
import { NliModel, type NliPair } from './nli-model';
import type { NliOptions } from './options';
import { bidirectionalVerdict } from './verdict';

/** The NLI judge, with its model reachable for tools and tests (loads it on first use). */
export interface NliJudge extends Judge {
  entailment(pairs: readonly EntailmentPair[]): Promise<EntailmentScores[]>;
  model(): Promise<NliModel>;
  /** Gives the model back (model-cache.ts); later calls do nothing. */
  dispose(): Promise<void>;
}

/**
 * The run's NLI judge. Its model is shared with every other NLI judge of the process that loads
 * the same model the same way (model-cache.ts), loaded on the first call, given back on dispose.
 */
export function createNliJudge(run: Pick<RunContext, 'specDir' | 'hub' | 'log'>, options: NliOptions): NliJudge {
  const ref = { model: options.model, revision: options.revision, quantized: options.quantized, onnxFile: options.onnxFile };
  const key = JSON.stringify([modelKey(ref, run.specDir, run.hub), options.maxLength ?? null, options.threads ?? null]);
  const lease = leaseModel(key, async () => {
    const files = await locateNliModel(ref, { specDir: run.specDir, hub: run.hub, log: run.log });
    return NliModel.load(files, { maxLength: options.maxLength, threads: options.threads, log: run.log });
  });
  // The semantic-entropy code's conditioning: '<question> <answer>' on both sides.
  const withQuestion = (question: string | undefined, text: string) => (options.conditionOnQuestion && question ? `${question} ${text}` : text);

  return {
    name: 'nli',
    model: () => lease.get(),

    async judge(items: readonly JudgeItem[]): Promise<JudgeVerdict[]> {
      const plans = items.map((item) => {
        const references = item.references.filter((r) => r.trim() !== '');
        // An empty answer entails nothing; the model is not asked (it would score two empty premises).
        return { item, references: item.candidate.trim() === '' ? [] : references };
      });
      const pairs: NliPair[] = [];
      for (const { item, references } of plans) {
        const candidate = withQuestion(item.question, item.candidate);
        for (const r of references) {
          const reference = withQuestion(item.question, r);
          pairs.push({ premise: candidate, hypothesis: reference }, { premise: reference, hypothesis: candidate });
        }
      }
      if (pairs.length === 0) return plans.map((p) => emptyVerdict(p.item));
      const model = await lease.get();
      const scores = await model.classify(pairs, options.batchSize);
      const e = model.labels.entailment;
      const label = { index: e, name: model.labels.names[e] };
      let at = 0;
      return plans.map(({ item, references }) => {
        if (references.length === 0) return emptyVerdict(item);
        const perReference = references.map((reference) => ({ reference, forward: scores[at++].probs[e], backward: scores[at++].probs[e] }));
        return bidirectionalVerdict(perReference, options.threshold, label);
      });
    },

    async entailment(pairs: readonly EntailmentPair[]): Promise<EntailmentScores[]> {
      if (pairs.length === 0) return [];
      const model = await lease.get();
      const { entailment, contradiction, names } = model.labels;
      if (contradiction === null) {
        throw new NliModelError(model.where, `config.json's labels are ${names.join(', ')}: no 'contradiction' label, so contradiction probabilities (non-strict semantic clustering) are not available from this model`);
      }
      const scores = await model.classify(
        pairs.map((p) => ({ premise: withQuestion(p.question, p.premise), hypothesis: withQuestion(p.question, p.hypothesis) })),
        options.batchSize,
      );
      return scores.map((s) => ({ entailment: s.probs[entailment], contradiction: s.probs[contradiction] }));
    },

    dispose: () => lease.release(),
  };
}

function emptyVerdict(item: JudgeItem): JudgeVerdict {
  const why = item.candidate.trim() === '' ? 'empty answer' : 'no non-empty reference to compare with';
  return { correct: false, confidence: 0, detail: why };
}
