import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { locateNliModel } from './model-files';
import { NliModel } from './nli-model';
import { readGolden, tinyNliDir } from './tiny-nli.test-support';

const dir = tinyNliDir('the tiny-nli golden tests');

(dir ? describe : describe.skip)('tiny-nli against golden.json (SentencePiece ids, PyTorch logits)', () => {
  const golden = dir ? readGolden(dir) : { labels: [], pairs: [] };
  let model: NliModel;
  const maxDiff = (a: readonly number[][], b: readonly number[][]) => Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i][j]))));

  beforeAll(async () => {
    model = await NliModel.load(await locateNliModel({ model: dir!, quantized: false }, { specDir: process.cwd(), hub: { offline: true } }), { threads: 1 });
  });
  afterAll(() => model?.dispose());

  it('has the fixture layout the issue describes', () => {
    expect(golden.pairs.length).toBeGreaterThanOrEqual(10);
    expect(JSON.parse(readFileSync(path.join(dir!, 'config.json'), 'utf8')).model_type).toBe('deberta-v2');
  });

  it("reads the entailment label from config.json: index 2 of CONTRADICTION, NEUTRAL, ENTAILMENT", () => {
    expect(model.labels).toEqual({ names: golden.labels, entailment: 2, contradiction: 0 });
    expect(golden.labels).toEqual(['CONTRADICTION', 'NEUTRAL', 'ENTAILMENT']);
  });

  it("tokenizes every pair to golden.json's ids (SentencePiece Unigram, the pair template [CLS] A [SEP] B [SEP])", () => {
    for (const p of golden.pairs) expect({ pair: [p.premise, p.hypothesis], ids: model.encode(p).ids }).toEqual({ pair: [p.premise, p.hypothesis], ids: p.input_ids });
  });

  it('gives PyTorch logits within 1e-4, each pair alone', async () => {
    const alone: number[][] = [];
    for (const p of golden.pairs) alone.push([...(await model.classify([p], 1))[0].logits]);
    const diff = maxDiff(alone, golden.pairs.map((p) => p.logits));
    // eslint-disable-next-line no-console
    console.log(`tiny-nli golden: max |logit difference| alone ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('gives PyTorch batched logits within 1e-4 in one padded batch of every pair, and probabilities within 1e-5', async () => {
    const scores = await model.classify(golden.pairs, 32);
    const diff = maxDiff(scores.map((s) => [...s.logits]), golden.pairs.map((p) => p.batched_logits));
    const probDiff = maxDiff(scores.map((s) => [...s.probs]), golden.pairs.map((p) => p.probs));
    // eslint-disable-next-line no-console
    console.log(`tiny-nli golden: max |logit difference| batched ${diff.toExponential(2)}, max |probability difference| ${probDiff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    expect(probDiff).toBeLessThan(1e-5);
    // Batches of 4, split across the length-sorted order: the same numbers.
    const small = await model.classify(golden.pairs, 4);
    expect(maxDiff(small.map((s) => [...s.logits]), golden.pairs.map((p) => p.batched_logits))).toBeLessThan(1e-4);
  });

  it('runs each distinct pair once per call', async () => {
    const before = model.pairsRun;
    const [a, b] = golden.pairs;
    const scores = await model.classify([a, b, a, a, b], 32);
    expect(model.pairsRun - before).toBe(2);
    expect(scores[2]).toEqual(scores[0]);
    expect(scores[4]).toEqual(scores[1]);
  });
});
