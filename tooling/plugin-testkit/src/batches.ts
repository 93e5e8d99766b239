import { type AnswerBatch, type Backbone, type EncodedBatch, type McqBatch, type McqExample, type OpenExample, type TrainingPlan } from '@bayes-peft/core';
import { makeAnswerBatch, makeMcqBatch, targetTokenIds } from '@bayes-peft/runner';

/** The classes of the conformance task; single letters, each one token for the tiny model. */
export const CONFORMANCE_LABELS = ['A', 'B', 'C', 'D'] as const;

/**
 * A fixed four-example batch in the toy dataset's words, so the tiny model's tokenizer makes
 * short sequences (a training step then takes milliseconds). The answers are arbitrary:
 * conformance checks mechanics, not accuracy.
 */
export const CONFORMANCE_EXAMPLES: readonly McqExample[] = [
  { id: 'c0', prompt: 'the red ball is in box', label: 0 },
  { id: 'c1', prompt: 'the blue cup is in the box', label: 1 },
  { id: 'c2', prompt: 'a green key', label: 2 },
  { id: 'c3', prompt: 'the small hat is in box', label: 3 },
];

const MAX_SEQ_LEN = 64;

/** The conformance batch on the device; dispose with core's disposeMcqBatch. */
export function conformanceBatch(backbone: Backbone): McqBatch {
  return makeMcqBatch(backbone, CONFORMANCE_EXAMPLES, targetTokenIds(backbone.tokenizer, CONFORMANCE_LABELS), MAX_SEQ_LEN);
}

/**
 * Open-ended examples for the generative checks: a prompt, and a training text that continues
 * it with a short answer (what an open-ended dataset's trainText is), in the toy dataset's words.
 */
export const CONFORMANCE_OPEN_EXAMPLES: readonly OpenExample[] = [
  ['o0', 'where is the red ball', 'in the box'],
  ['o1', 'what is in the blue cup', 'a green key'],
  ['o2', 'where is the small hat', 'on the red box'],
].map(([id, question, answer]) => {
  const prompt = `Question: ${question}? Answer:`;
  return { id, question, prompt, references: [answer], trainText: `${prompt} ${answer}` };
});

/** The open-ended examples as an answer batch (the runner's makeAnswerBatch); dispose with the runner's disposeTrainBatch. */
export function conformanceAnswerBatch(backbone: Backbone): AnswerBatch {
  return makeAnswerBatch(backbone, CONFORMANCE_OPEN_EXAMPLES, MAX_SEQ_LEN);
}

/** The open-ended examples' prompts, encoded on the host as the runner encodes generation prompts. */
export function conformanceOpenPrompts(backbone: Backbone): EncodedBatch {
  return backbone.encode(
    CONFORMANCE_OPEN_EXAMPLES.map((e) => e.prompt),
    { maxLength: MAX_SEQ_LEN, addSpecialTokens: true },
  );
}

/** Short prompts for generation checks, encoded on the host as the runner does. */
export function conformancePrompts(backbone: Backbone): EncodedBatch {
  return backbone.encode(['the red ball is in', 'box'], { maxLength: MAX_SEQ_LEN, addSpecialTokens: true });
}

/**
 * A plan for `steps` steps over the conformance batch with the runner's defaults (AdamW, eps
 * 1e-6, no decay, no warmup) and a learning rate large enough that a few steps move the adapter.
 */
export function conformancePlan(steps: number): TrainingPlan {
  const batchSize = CONFORMANCE_EXAMPLES.length;
  return {
    totalSteps: steps,
    warmupSteps: 0,
    stepsPerEpoch: 1,
    batchSize,
    numTrainExamples: batchSize,
    lr: 1e-2,
    weightDecay: 0,
    adamEpsilon: 1e-6,
    optimizer: 'adamw',
  };
}
