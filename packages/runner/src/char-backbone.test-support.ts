import { tf } from '@bayes-peft/tensor';
import type { Backbone, EncodedBatch } from '@bayes-peft/core';

/** Just enough of a Backbone for the runner's batch makers: one token per character, left padded with 0. */
export const charBackbone = {
  encode(texts: readonly string[]): EncodedBatch {
    const T = Math.max(...texts.map((t) => t.length));
    return {
      ids: texts.map((t) => [...new Array<number>(T - t.length).fill(0), ...[...t].map((c) => c.charCodeAt(0))]),
      mask: texts.map((t) => [...new Array<number>(T - t.length).fill(0), ...new Array<number>(t.length).fill(1)]),
    };
  },
  toTensors(b: EncodedBatch) {
    return { inputIds: tf.tensor2d(b.ids, undefined, 'int32'), attentionMask: tf.tensor2d(b.mask, undefined, 'int32') };
  },
} as unknown as Backbone;
