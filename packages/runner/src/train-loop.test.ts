import { tf } from '@bayes-peft/tensor';
import { Rng, type AnswerBatch, type McqExample, type TrainBatch, type TrainingPlan, type Wrapper } from '@bayes-peft/core';
import type { RunSpec } from './spec/schema';
import { trainLoop } from './train-loop';
import { charBackbone } from './char-backbone.test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const backbone = charBackbone;

const spec = { train: { shuffle: false, maxSeqLen: 16, logEvery: 1, evalEvery: 0, checkpointEvery: 0 } } as unknown as RunSpec;
const plan = (totalSteps: number): TrainingPlan => ({
  totalSteps,
  warmupSteps: 0,
  stepsPerEpoch: 2,
  batchSize: 2,
  numTrainExamples: 4,
  lr: 0.1,
  weightDecay: 0,
  adamEpsilon: 1e-6,
  optimizer: 'adamw',
});

/** A wrapper that records what each step was given (and how many tensors were alive then). */
function recorder() {
  const seen: { kind: string; ids: readonly string[]; alive: number }[] = [];
  const wrapper = {
    trainStep(batch: TrainBatch, step: number) {
      seen.push({ kind: batch.kind ?? 'mcq', ids: batch.ids, alive: tf.memory().numTensors });
      return { loss: step, nll: step };
    },
  } as unknown as Wrapper;
  return { seen, wrapper };
}

const hooks = { onLog: async () => {}, onEval: async () => {}, onCheckpoint: async () => {} };

describe('trainLoop', () => {
  it('runs exactly train.steps steps (defect 24) over batches makeBatch builds from any examples, and frees each batch', async () => {
    const { seen, wrapper } = recorder();
    const examples = ['p', 'q', 'r', 's'].map((id) => ({ id, text: id.repeat(3) }));
    const made: AnswerBatch[] = [];
    const makeBatch = (group: readonly { id: string; text: string }[]): AnswerBatch => {
      const tokens = backbone.toTensors(backbone.encode(group.map((e) => e.text)));
      const batch: AnswerBatch = { kind: 'answer', ids: group.map((e) => e.id), tokens, targets: tf.zerosLike(tokens.inputIds), weights: tf.ones(tokens.inputIds.shape, 'float32') as tf.Tensor2D };
      made.push(batch);
      return batch;
    };
    const before = tf.memory().numTensors;
    await trainLoop({ wrapper, examples, makeBatch, spec, plan: plan(5), rng: new Rng(0), hooks });
    // 5 steps, not whole epochs: p q | r s | p q | r s | p q
    expect(seen.map((s) => s.ids.join(''))).toEqual(['pq', 'rs', 'pq', 'rs', 'pq']);
    expect(seen.every((s) => s.kind === 'answer' && s.alive === before + 4)).toBe(true); // one live batch: ids, mask, targets, weights
    expect(made.every((b) => b.targets.isDisposed && b.weights.isDisposed && b.tokens.inputIds.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without makeBatch trains multiple-choice examples of backbone and targetIds, as runs always have', async () => {
    const { seen, wrapper } = recorder();
    const examples: McqExample[] = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, prompt: id, label: i % 2 }));
    const before = tf.memory().numTensors;
    await trainLoop({ wrapper, backbone, examples, targetIds: [1, 2], spec, plan: plan(3), rng: new Rng(0), hooks });
    expect(seen.map((s) => [s.kind, s.ids.join('')])).toEqual([
      ['mcq', 'ab'],
      ['mcq', 'cd'],
      ['mcq', 'ab'],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainLoop({ wrapper, examples, spec, plan: plan(1), rng: new Rng(0), hooks })).rejects.toThrow(/need makeBatch, or backbone, targetIds and maxSeqLen/);
  });
});
