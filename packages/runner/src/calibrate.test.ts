import { tf } from '@bayes-peft/tensor';
import type { CalibrationContext, CalibrationResult, McqBatch, McqExample, Wrapper } from '@bayes-peft/core';
import { anchorBatches, calibrateWrapper } from './calibrate';
import { charBackbone } from './char-backbone.test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const backbone = charBackbone;

const examples: McqExample[] = Array.from({ length: 7 }, (_, i) => ({ id: `a${i}`, prompt: 'x'.repeat(i + 1), label: i % 2 }));

describe('anchorBatches', () => {
  it('yields every anchor example in batches, one live batch at a time, and frees each one', async () => {
    const before = tf.memory().numTensors;
    const anchor = anchorBatches({ backbone, examples, targetIds: [1, 2], batchSize: 3, maxSeqLen: 16 });
    for (let pass = 0; pass < 2; pass++) {
      const sizes: number[] = [];
      const ids: string[] = [];
      for await (const batch of anchor()) {
        sizes.push((batch as McqBatch).labels.shape[0]);
        ids.push(...batch.ids);
        expect(tf.memory().numTensors).toBe(before + 3); // input ids, mask, labels of this batch only
      }
      expect(sizes).toEqual([3, 3, 1]); // the last partial batch is kept
      expect(ids).toEqual(examples.map((e) => e.id));
      expect(tf.memory().numTensors).toBe(before);
    }
    // leaving a pass early frees the current batch too
    for await (const _ of anchor()) break;
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batches anchor examples of any kind with makeBatch (an open-ended anchor split), freeing every batch', async () => {
    const before = tf.memory().numTensors;
    const open = ['u', 'v', 'w'].map((id) => ({ id, text: `${id}${id}` }));
    const anchor = anchorBatches({
      examples: open,
      batchSize: 2,
      makeBatch: (group) => {
        const tokens = backbone.toTensors(backbone.encode(group.map((e) => e.text)));
        return { kind: 'answer', ids: group.map((e) => e.id), tokens, targets: tf.zerosLike(tokens.inputIds), weights: tf.ones(tokens.inputIds.shape, 'float32') as tf.Tensor2D };
      },
    });
    const seen: string[] = [];
    for await (const batch of anchor()) {
      seen.push(`${batch.kind}:${batch.ids.join('')}`);
      expect(tf.memory().numTensors).toBe(before + 4); // ids, mask, targets, weights
    }
    expect(seen).toEqual(['answer:uv', 'answer:w']);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("calls the wrapper's calibrate hook with the anchor count, or returns null without one", async () => {
    const seen: CalibrationContext[] = [];
    const result: CalibrationResult = { log: [{ beta: 0.1, value: 0.002, accepted: true }], summary: { beta: 0.1 } };
    const wrapper = {
      async calibrate(anchor: () => AsyncIterable<McqBatch>, ctx: CalibrationContext) {
        seen.push(ctx);
        let n = 0;
        for await (const b of anchor()) n += b.ids.length;
        expect(n).toBe(7);
        return result;
      },
    } as unknown as Wrapper;
    const args = { backbone, examples, targetIds: [1, 2], batchSize: 4, maxSeqLen: 16 };
    expect(await calibrateWrapper({ ...args, wrapper })).toBe(result);
    // The anchor count; the engine is the backbone's, not the wrapper's business.
    expect(seen).toEqual([{ numExamples: 7 }]);
    expect(await calibrateWrapper({ ...args, wrapper: {} as Wrapper })).toBeNull();
  });
});
