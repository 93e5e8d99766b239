import { Rng, type LoraConfig } from '@bayes-peft/core';
import { installLora } from '@bayes-peft/lora';
import { tf } from '@bayes-peft/tensor';
import { ToyBackbone, disposeBatch, makeMcqBatch, setupTestBackend } from '@bayes-peft/testing-backbone';
import { applySequenceMask, invertedDropout, sequenceKeepMask } from './dropout-math';
import { McDropoutAdapter } from './mc-dropout-adapter';

beforeAll(setupTestBackend);

/** |observed - p| within 5 standard errors of a Bernoulli(p) fraction over n draws. */
function expectFraction(observed: number, p: number, n: number): void {
  expect(Math.abs(observed - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
}

describe('inverted dropout', () => {
  it.each([0.1, 0.5])('drops a fraction p = %p of the inputs and scales the rest by 1 / (1 - p)', (p) => {
    const x = tf.ones([1000, 16]);
    const before = tf.memory().numTensors;
    const y = invertedDropout(x, p, new Rng(3));
    const v = Array.from(y.dataSync());
    expectFraction(v.filter((e) => e === 0).length / v.length, p, v.length);
    expect(v.filter((e) => e !== 0 && Math.abs(e - 1 / (1 - p)) > 1e-6).length).toBe(0);
    // the mean is kept (inverted dropout): E[y] = 1
    expect(Math.abs(v.reduce((a, b) => a + b, 0) / v.length - 1)).toBeLessThan(5 * Math.sqrt(p / (1 - p) / v.length));
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('with rate 0 returns its input; rejects rates outside [0, 1)', () => {
    const x = tf.ones([2, 3]);
    expect(invertedDropout(x, 0, new Rng(1))).toBe(x);
    expect(() => invertedDropout(x, 1, new Rng(1))).toThrow(/\[0, 1\)/);
    expect(() => sequenceKeepMask(2, 3, -0.1, new Rng(1))).toThrow(/\[0, 1\)/);
    x.dispose();
  });

  it('one mask per sequence: drops a fraction p of the features, the same ones at every position', () => {
    const p = 0.25;
    const [B, T, F] = [400, 5, 8];
    const mask = sequenceKeepMask(B, F, p, new Rng(4));
    const m = mask.dataSync();
    expectFraction(m.filter((e) => e === 0).length / m.length, p, m.length);
    const x = tf.ones([B, T, F]);
    const y = applySequenceMask(x, mask);
    const v = y.arraySync() as number[][][];
    let mismatches = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) if (v[b][t][f] !== m[b * F + f]) mismatches++;
    expect(mismatches).toBe(0);
    // 2-D inputs ([B, in], e.g. the head at the last position) take the mask as it is; a wrong batch is refused
    const flat = applySequenceMask(tf.ones([B, F]), mask);
    expect(Array.from(flat.dataSync())).toEqual(Array.from(m));
    expect(() => applySequenceMask(tf.ones([B + 1, F]), mask)).toThrow(/does not fit/);
    tf.dispose([mask, x, y, flat]);
  });
});

describe('McDropoutAdapter', () => {
  const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'lm_head'] };

  it('keeps dropout on when not training, at the configured rate', () => {
    const bb = new ToyBackbone({ hiddenSize: 16 });
    const { adapter } = installLora(bb, config, new Rng(1), (l) => new McDropoutAdapter(l, 0.2)).get('lm_head')!;
    const x = tf.ones([500, 16]);
    const y = adapter.dropInput(x, { training: false, rng: new Rng(2) });
    const v = Array.from(y.dataSync());
    expectFraction(v.filter((e) => e === 0).length / v.length, 0.2, v.length);
    tf.dispose([x, y]);
    for (const s of bb.sites()) (s.adapter as McDropoutAdapter).dispose();
    bb.dispose();
  });

  it('passes differ with p > 0 and are identical with p = 0', () => {
    for (const [p, differ] of [
      [0.3, true],
      [0, false],
    ] as const) {
      const bb = new ToyBackbone();
      const installed = installLora(bb, config, new Rng(1), (l) => new McDropoutAdapter(l, p));
      tf.tidy(() => [...installed.values()].forEach(({ lora }, i) => lora.B.assign(tf.randomNormal(lora.B.shape, 0, 0.5, 'float32', i + 1))));
      const batch = makeMcqBatch(bb, ['aab', 'bba', 'abab'], [0, 1, 0]);
      const passes = [0, 1, 2].map((s) => {
        const t = bb.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(9, `sample-${s}`) } });
        const d = Array.from(t.dataSync());
        t.dispose();
        return d;
      });
      if (differ) {
        expect(passes[1]).not.toEqual(passes[0]);
        expect(passes[2]).not.toEqual(passes[1]);
      } else {
        expect(passes[1]).toEqual(passes[0]);
        expect(passes[2]).toEqual(passes[0]);
      }
      disposeBatch(batch);
      for (const { adapter } of installed.values()) adapter.dispose();
      bb.dispose();
    }
  });
});
