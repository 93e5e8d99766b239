import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphBuilder, ONNX_TYPE } from '@bayes-peft/onnx';
import { NliModelError } from './errors';
import { NliModel } from './nli-model';
import { tinyNliDir } from './tiny-nli.test-support';

const dir = tinyNliDir('the graph input tests');

/**
 * A stand-in classifier that shows what it was fed: logits = [sum of the unmasked ids, number of
 * unmasked tokens, sum of token_type_ids] per row, for a graph declaring `inputs`.
 */
function echoGraph(inputs: readonly string[]): Uint8Array {
  const g = new GraphBuilder('echo');
  for (const name of inputs) g.input(name, ['batch', 'seq'], 'int64');
  const axes = g.int64([1]);
  const sum = (v: string) => g.op('ReduceSum', [g.op('Cast', [v], { to: ONNX_TYPE.float32 }), axes], { keepdims: 1 });
  const zeros = g.op('Mul', ['input_ids', g.int64([0])]);
  const mask = inputs.includes('attention_mask') ? 'attention_mask' : g.op('Add', [zeros, g.int64([1])]);
  const ids = sum(g.op('Mul', ['input_ids', mask]));
  const length = sum(mask);
  const types = sum(inputs.includes('token_type_ids') ? 'token_type_ids' : zeros);
  g.output(g.op('Concat', [ids, length, types], { axis: 1 }), 'logits', ['batch', 3]);
  return g.toBytes();
}

async function modelFolder(inputs: readonly string[], typeVocabSize: number): Promise<string> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-nli-echo-'));
  await fs.mkdir(path.join(out, 'onnx'));
  await fs.writeFile(path.join(out, 'onnx', 'model.onnx'), echoGraph(inputs));
  await fs.writeFile(path.join(out, 'config.json'), JSON.stringify({ id2label: { 0: 'contradiction', 1: 'neutral', 2: 'entailment' }, type_vocab_size: typeVocabSize, max_position_embeddings: 64 }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await fs.symlink(path.join(dir!, f), path.join(out, f));
  return out;
}

const load = (folder: string) => NliModel.load({ dir: folder, graph: path.join(folder, 'onnx', 'model.onnx'), where: folder }, { threads: 1 });

(dir ? describe : describe.skip)('what the graph is fed', () => {
  const folders: string[] = [];
  afterAll(() => Promise.all(folders.map((f) => fs.rm(f, { recursive: true, force: true }))));
  const make = async (inputs: readonly string[], typeVocabSize = 0) => {
    const f = await modelFolder(inputs, typeVocabSize);
    folders.push(f);
    return f;
  };
  // 'Paris' / 'London': [CLS] ▁P ar is [SEP] ▁London [SEP] = 1 69 35 93 2 387 2 (golden.json).
  const pairs = [
    { premise: 'Paris', hypothesis: 'London' },
    { premise: 'The answer is Paris.', hypothesis: 'Paris' },
  ];
  const PARIS_LONDON = { ids: 1 + 69 + 35 + 93 + 2 + 387 + 2, length: 7 };

  it('token_type_ids as zeros when the graph asks for them (DeBERTa-v3: no segment embeddings); padding masked', async () => {
    const model = await load(await make(['input_ids', 'attention_mask', 'token_type_ids']));
    try {
      const [a, b] = await model.classify(pairs, 2);
      expect(a.logits).toEqual([PARIS_LONDON.ids, PARIS_LONDON.length, 0]);
      // The shorter row was padded to the longer's 15 tokens in the same batch; only 7 count.
      expect(b.logits[1]).toBe(15);
      expect(b.logits[2]).toBe(0);
    } finally {
      await model.dispose();
    }
  });

  it("the tokenizer's segment ids when the model has segment embeddings (type_vocab_size 2, BERT)", async () => {
    const model = await load(await make(['input_ids', 'attention_mask', 'token_type_ids'], 2));
    try {
      const [a] = await model.classify(pairs, 2);
      // '▁London [SEP]' is segment 1.
      expect(a.logits[2]).toBe(2);
    } finally {
      await model.dispose();
    }
  });

  it('only input_ids when that is all the graph declares; padding could not be masked then, so a batch holds pairs of one length', async () => {
    const model = await load(await make(['input_ids']));
    try {
      const [a, b] = await model.classify(pairs, 32);
      expect(a.logits).toEqual([PARIS_LONDON.ids, PARIS_LONDON.length, 0]);
      expect(b.logits[1]).toBe(15);
    } finally {
      await model.dispose();
    }
  });

  it('a graph with inputs a sequence classifier does not take is refused, naming them', async () => {
    const folder = await make(['input_ids', 'attention_mask', 'position_ids']);
    const err = await load(folder).catch((e) => e);
    expect(err).toBeInstanceOf(NliModelError);
    expect(err.message).toContain("the graph's inputs are input_ids, attention_mask, position_ids; a sequence-classification export takes input_ids, attention_mask, token_type_ids");
  });
});
