import * as tensor from '@bayes-peft/tensor';
import { tf } from '@bayes-peft/tensor';
import { Rng, silentLogger, type McqBatch, type RunContext, type TrainingPlan } from '@bayes-peft/core';
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

export function disposeBatch(batch: McqBatch): void {
  tf.dispose([batch.tokens.inputIds, batch.tokens.attentionMask, batch.labels]);
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
