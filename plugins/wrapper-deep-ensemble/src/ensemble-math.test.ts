import { Rng, combineSamples } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { ensemblePredictive, memberInitRng } from './ensemble-math';

beforeAll(setupTestBackend);

// Two examples, three members, two classes.
const Z = [
  [
    [2, 0],
    [0, 1],
    [1, 1],
  ],
  [
    [-1, 3],
    [0.5, 0.5],
    [4, -2],
  ],
];
const softmax = (z: number[]) => {
  const e = z.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('ensemble averaging', () => {
  it("'probs' is the mean of the members' softmax; 'logits' the softmax of the mean logits (by hand, on device and in the runner)", () => {
    // example 0 by hand: softmax([2,0]) = [0.880797, 0.119203]; softmax([0,1]) = [0.268941, 0.731059]; softmax([1,1]) = [0.5, 0.5]
    //   probs  -> [(0.880797 + 0.268941 + 0.5) / 3, ...] = [0.549913, 0.450087]
    //   logits -> mean [1, 2/3] -> softmax = [0.582570, 0.417430]
    const hand = {
      probs: [0.549913, 0.450087],
      logits: [1 / (1 + Math.exp(2 / 3 - 1)), 1 - 1 / (1 + Math.exp(2 / 3 - 1))],
    };
    expect(hand.logits[0]).toBeCloseTo(0.58257, 5);
    const logits = tf.tensor3d(Z);
    const before = tf.memory().numTensors;
    for (const rule of ['probs', 'logits'] as const) {
      const dev = ensemblePredictive(logits, rule);
      const got = dev.arraySync() as number[][];
      dev.dispose();
      got[0].forEach((p, c) => expect(p).toBeCloseTo(hand[rule][c], 5));
      Z.forEach((members, b) => {
        const want =
          rule === 'probs'
            ? [0, 1].map((c) => members.reduce((s, z) => s + softmax(z)[c], 0) / members.length)
            : softmax([0, 1].map((c) => members.reduce((s, z) => s + z[c], 0) / members.length));
        want.forEach((p, c) => expect(got[b][c]).toBeCloseTo(p, 6));
        // the runner's combination (core) agrees with the device one
        combineSamples(members, rule).probs.forEach((p, c) => expect(p).toBeCloseTo(want[c], 12));
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    // the two rules really differ here
    expect(Math.abs(hand.probs[0] - hand.logits[0])).toBeGreaterThan(0.03);
    logits.dispose();
  });

  it("member 0 draws from the run's lora stream itself, member m from lora/member-m", () => {
    const lora = new Rng(4).child('lora');
    expect(memberInitRng(lora, 0)).toBe(lora);
    expect(memberInitRng(lora, 2).path).toBe('lora/member-2');
    expect(memberInitRng(lora, 1).next()).not.toBe(memberInitRng(lora, 2).next());
  });
});
