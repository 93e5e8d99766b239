import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findShared } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { runCli, tempDir } from './cli.test-support';

const tinyNli = findShared('models/tiny-nli', 'the judge command tests on tiny-nli');
const ort = onnxRuntimeUnavailable();
// eslint-disable-next-line no-console
if (tinyNli && ort) console.log(`skipping the judge command tests on tiny-nli: ${ort}`);

interface GoldenPair {
  premise: string;
  hypothesis: string;
  probs: number[];
}

/** `bayes-peft judge`: one line per item with the verdict, the confidence and the scorer's detail. */
describe('bayes-peft judge', () => {
  let dir: string;
  const write = async (name: string, rows: readonly unknown[]) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
    return file;
  };
  const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l));

  beforeAll(async () => {
    dir = await tempDir('judge');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  (tinyNli && !ort ? it : it.skip)("nli over golden.json's pairs: confidence = the mean of the two golden entailment probabilities", async () => {
    const golden = JSON.parse(readFileSync(path.join(tinyNli!, 'golden.json'), 'utf8')) as { pairs: GoldenPair[] };
    const input = await write(
      'golden.jsonl',
      golden.pairs.map((p) => ({ question: '', candidate: p.premise, references: [p.hypothesis] })),
    );
    const res = await runCli('judge', 'nli', '--input', input, '--options', JSON.stringify({ model: tinyNli }), '--json');
    expect(res.stderr).toMatch(/^nli: \d+ of 15 correct/m);
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    expect(out).toHaveLength(golden.pairs.length);
    let compared = 0;
    golden.pairs.forEach((p, i) => {
      expect(out[i]).toMatchObject({ id: String(i + 1), question: '', candidate: p.premise, references: [p.hypothesis] });
      expect(out[i].detail).toMatch(/^forward 0\.\d{4}, backward 0\.\d{4} with .* \(entailment = label 2 ENTAILMENT, threshold 0\.5\)$/);
      const back = golden.pairs.find((q) => q.premise === p.hypothesis && q.hypothesis === p.premise);
      if (!back) return;
      const expected = (p.probs[2] + back.probs[2]) / 2;
      expect(Math.abs(out[i].confidence - expected)).toBeLessThan(1e-4);
      expect(out[i].correct).toBe(p.probs[2] >= 0.5 && back.probs[2] >= 0.5);
      compared++;
    });
    expect(compared).toBeGreaterThanOrEqual(8);
  });

  it('string-match: text lines, references given as a list or one string', async () => {
    const input = await write('sm.jsonl', [
      { question: 'Capital of France?', candidate: 'It is Paris.', references: ['paris'] },
      '',
      { candidate: 'Lyon', references: 'paris', id: 'q2' },
    ]);
    const res = await runCli('judge', 'string-match', '--input', input);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      `correct  1.0000  "It is Paris." vs ["paris"]  'it is paris' matched 'paris' (reference in candidate)\n` +
        `wrong    0.0000  "Lyon" vs ["paris"]  'lyon' matched none of 1 reference\n`,
    );
    expect(res.stderr).toBe('string-match: 1 of 2 correct (50.0%), mean confidence 0.5000\n');
    const json = await runCli('judge', '@bayes-peft/scorer-string-match', '--input', input, '--options', '{"mode": "exact"}', '--json');
    expect(lines(json.stdout).map((l) => [l.id, l.correct])).toEqual([
      ['1', false],
      ['q2', false],
    ]);
  });

  it('bad input: each a one-line error naming what is wrong', async () => {
    const good = await write('good.jsonl', [{ candidate: 'Paris', references: ['paris'] }]);
    const fail = async (args: string[], message: string | RegExp) => {
      const res = await runCli('judge', ...args);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      if (typeof message === 'string') expect(res.stderr).toBe(`error: ${message}\n`);
      else expect(res.stderr).toMatch(message);
    };
    await fail(['string-match', '--input', good, '--options', '{mode: exact}'], /^error: --options: not JSON \(.*\): \{mode: exact\}\n$/);
    await fail(['string-match', '--input', good, '--options', '[1]'], '--options: expected a JSON object, got [1]');
    await fail(['string-match', '--input', good, '--options', '{"mode": "fuzzy"}'], /^error: invalid options for judge plugin 'string-match' \{"mode":"fuzzy"\}: mode: /);
    await fail(['nli', '--input', good, '--options', '{"modle": "x"}'], /^error: invalid options for judge plugin 'nli' \{"modle":"x"\}: modle: Unrecognized key/);
    await fail(['arc', '--input', good], /^error: 'arc' is a dataset plugin, not a judge; judge plugins: .*string-match.*nli/);
    await fail(['nosuch', '--input', good], /^error: unknown judge plugin 'nosuch'/);
    const bad = await write('bad.jsonl', [{ candidate: 'Paris', references: ['paris'] }, { candidate: 3, references: [] }]);
    await fail(['string-match', '--input', bad], `${bad} line 2: "candidate" must be a string`);
    const noRefs = await write('norefs.jsonl', [{ candidate: 'Paris' }]);
    await fail(['string-match', '--input', noRefs], `${noRefs} line 1: "references" must be a list of strings (or one string)`);
    await fail(['string-match', '--input', path.join(dir, 'missing.jsonl')], `cannot read ${path.join(dir, 'missing.jsonl')}: ENOENT`);
  });

  (tinyNli && !ort ? it : it.skip)('nli: a model folder without an ONNX graph says which files it looked for and how to export one', async () => {
    const folder = path.join(dir, 'no-graph');
    await fs.mkdir(folder);
    for (const f of ['config.json', 'tokenizer.json']) await fs.symlink(path.join(tinyNli!, f), path.join(folder, f));
    const input = await write('one.jsonl', [{ candidate: 'Paris', references: ['paris'] }]);
    const res = await runCli('judge', 'nli', '--input', input, '--options', JSON.stringify({ model: folder }));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: NLI model ${folder}: no ONNX graph: looked for onnx/model.onnx and model.onnx. Export the model with Optimum: optimum-cli export onnx --model <id> --task text-classification <dir>`);
    expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
