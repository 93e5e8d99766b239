import { tf } from '@bayes-peft/tensor';
import { Rng, type Adapter } from '@bayes-peft/core';
import { ToyBackbone, makeAnswerBatch, makeMcqBatch, disposeBatch, setupTestBackend } from './index';

beforeAll(setupTestBackend);

const ctx = { training: false, rng: new Rng(0) };

describe('ToyBackbone', () => {
  it('exposes q_proj/v_proj/lm_head sites with Hugging Face names and [out, in] weights', () => {
    const bb = new ToyBackbone({ numLayers: 2, hiddenSize: 8, vocabSize: 16 });
    expect(bb.sites().map((s) => s.name)).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.v_proj',
      'model.layers.1.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
      'lm_head',
    ]);
    const head = bb.sites()[4];
    expect([head.outFeatures, head.inFeatures]).toEqual([16, 8]);
    bb.dispose();
  });

  it('reads the last position through left padding, selects columns, and adds adapter deltas', () => {
    const bb = new ToyBackbone({ seed: 3 });
    const batch = makeMcqBatch(bb, ['hello there', 'hi'], [0, 1]);
    const all = bb.forward(batch.tokens, { output: 'all', ctx });
    const last = bb.forward(batch.tokens, { output: 'last', ctx });
    const cols = bb.forward(batch.tokens, { output: 'last', ctx, columns: batch.targetIds });
    expect(all.shape).toEqual([2, batch.tokens.inputIds.shape[1], 32]);
    expect(cols.shape).toEqual([2, 2]);
    const T = all.shape[1]!;
    const lastFromAll = tf.tidy(() => tf.reshape(tf.slice(all, [0, T - 1, 0], [2, 1, 32]), [2, 32]));
    expect(Array.from(lastFromAll.dataSync())).toEqual(Array.from(last.dataSync()).map((x) => expect.closeTo(x, 5)));
    // the short prompt alone gives the same logits as in the padded batch
    const solo = makeMcqBatch(bb, ['hi'], [1]);
    const soloLast = bb.forward(solo.tokens, { output: 'last', ctx });
    Array.from(soloLast.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(last.dataSync()[32 + i], 4));
    // an adapter's delta lands on the output
    const shift: Adapter = { delta: (x) => tf.onesLike(tf.slice(tf.concat([x, x], -1), [0, 0], [x.shape[0], 32])) };
    bb.sites()[4].adapter = shift;
    const shifted = bb.forward(batch.tokens, { output: 'last', ctx });
    Array.from(shifted.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(last.dataSync()[i] + 1, 4));
    tf.dispose([all, last, cols, lastFromAll, soloLast, shifted]);
    disposeBatch(batch);
    disposeBatch(solo);
    bb.dispose();
  });

  it('generates greedily, one forward call per step, deterministically', async () => {
    const bb = new ToyBackbone({ seed: 5 });
    const enc = bb.encode(['abc', 'de']);
    const before = tf.memory().numTensors;
    const a = await bb.generate(enc, { maxNewTokens: 4, temperature: 0, topP: 1, ctx, eosTokenId: null });
    const b = await bb.generate(enc, { maxNewTokens: 4, temperature: 0, topP: 1, ctx, eosTokenId: null });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.map((r) => r.newIds.length)).toEqual([4, 4]);
    expect(a).toEqual(b);
    expect(a[0].nll).toBeGreaterThan(0);
    expect(bb.forwardCalls).toBe(8);
    bb.dispose();
  });
});

describe('makeAnswerBatch (toy)', () => {
  it('builds BOS, prompt, answer, EOS rows, left padded, scoring the answer and EOS as next tokens', () => {
    const bb = new ToyBackbone();
    const id = (c: string) => bb.tokenizer.idOf(c);
    const before = tf.memory().numTensors;
    const batch = makeAnswerBatch(bb, ['ab', 'b'], ['c', 'cab']);
    const [a, b, c] = [id('a'), id('b'), id('c')];
    // row 0: <pad> <bos> a b | c <eos>; row 1: <bos> b | c a b <eos>
    expect(batch.tokens.inputIds.arraySync()).toEqual([
      [0, 1, a, b, c, 2],
      [1, b, c, a, b, 2],
    ]);
    expect(batch.tokens.attentionMask.arraySync()).toEqual([
      [0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ]);
    expect(batch.targets.arraySync()).toEqual([
      [0, a, b, c, 2, 0],
      [b, c, a, b, 2, 0],
    ]);
    expect(batch.weights.arraySync()).toEqual([
      [0, 0, 0, 1, 1, 0],
      [0, 1, 1, 1, 1, 0],
    ]);
    disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
    bb.dispose();
  });
});
