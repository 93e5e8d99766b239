import * as tensor from '@bayes-peft/tensor';
import { tf } from '@bayes-peft/tensor';
import { Rng, silentLogger, type AnswerBatch, type McqBatch, type RunContext, type TrainBatch, type TrainingPlan } from '@bayes-peft/core';
import type { ToyBackbone } from './toy-backbone';

/** The CPU engine for small test models: initBackend('cpu') when @bayes-peft/tensor has it, else tf.setBackend. */
export async function setupTestBackend(): Promise<void> {
  const init = (tensor as unknown as { initBackend?: (request: string, log?: (line: string) => void) => Promise<unknown> }).initBackend;
  if (typeof init === 'function') await init('cpu', () => {});
  else await tf.setBackend('cpu');
  await tf.ready();
  // The CPU backend prints a one-time "install tfjs-node" banner on its first tensor; tests need no advert.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.dispose(tf.zeros([1]));
  } finally {
    console.warn = warn;
  }
}

/** A RunContext for tests: seeded RNG, silent log, no hub access. */
export function makeRunContext(seed = 1, overrides: Partial<RunContext> = {}): RunContext {
  return {
    seed,
    rng: new Rng(seed),
    log: silentLogger,
    specDir: process.cwd(),
    hub: { offline: true, cacheDir: '', endpoint: '' },
    ...overrides,
  };
}

/**
 * A multiple-choice batch over the toy backbone: each prompt is answered by one of `labels`
 * (single characters), the class's target id being the label character's token.
 */
export function makeMcqBatch(backbone: ToyBackbone, prompts: readonly string[], answers: readonly number[], labels: readonly string[] = ['A', 'B']): McqBatch {
  const enc = backbone.encode(prompts);
  return {
    ids: prompts.map((_, i) => `q${i}`),
    tokens: backbone.toTensors(enc),
    labels: tf.tensor1d([...answers], 'int32'),
    targetIds: labels.map((l) => backbone.tokenizer.idOf(l)),
  };
}

/**
 * An answer batch over the toy backbone (its tokenizer is one token per character): row b is
 * BOS, prompt b, answer b, EOS, left padded; position t predicts token t + 1 and is scored when
 * that token belongs to the answer or is the EOS. The runner's makeAnswerBatch builds the same
 * rows from open-ended examples.
 */
export function makeAnswerBatch(backbone: ToyBackbone, prompts: readonly string[], answers: readonly string[]): AnswerBatch {
  const tok = backbone.tokenizer;
  const rows = prompts.map((p, b) => {
    const prompt = tok.encode(p);
    return { ids: [...prompt, ...tok.encode(answers[b], { addSpecialTokens: false }), tok.eosTokenId], answerStart: prompt.length };
  });
  const T = Math.max(...rows.map((r) => r.ids.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  const targets: number[][] = [];
  const weights: number[][] = [];
  for (const { ids: row, answerStart } of rows) {
    const pad = T - row.length;
    ids.push([...new Array<number>(pad).fill(tok.padTokenId), ...row]);
    mask.push(ids[ids.length - 1].map((_, t) => (t < pad ? 0 : 1)));
    targets.push(ids[ids.length - 1].map((_, t) => (t >= pad && t - pad + 1 < row.length ? row[t - pad + 1] : 0)));
    weights.push(ids[ids.length - 1].map((_, t) => (t >= pad && t - pad + 1 < row.length && t - pad + 1 >= answerStart ? 1 : 0)));
  }
  return {
    kind: 'answer',
    ids: prompts.map((_, i) => `a${i}`),
    tokens: backbone.toTensors({ ids, mask }),
    targets: tf.tensor2d(targets, undefined, 'int32'),
    weights: tf.tensor2d(weights, undefined, 'float32'),
  };
}

/** Frees a batch either helper made. */
export function disposeBatch(batch: TrainBatch): void {
  tf.dispose([batch.tokens.inputIds, batch.tokens.attentionMask]);
  tf.dispose(batch.kind === 'answer' ? [batch.targets, batch.weights] : [batch.labels]);
}

/** A TrainingPlan with the reference's defaults (AdamW, eps 1e-6, no decay), for `totalSteps` steps. */
export function makePlan(overrides: Partial<TrainingPlan> = {}): TrainingPlan {
  const totalSteps = overrides.totalSteps ?? 20;
  return {
    totalSteps,
    warmupSteps: 0,
    stepsPerEpoch: 5,
    batchSize: 4,
    numTrainExamples: 20,
    lr: 1e-2,
    weightDecay: 0,
    adamEpsilon: 1e-6,
    optimizer: 'adamw',
    ...overrides,
  };
}
