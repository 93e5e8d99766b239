import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '@bayes-peft/core';
import { stringify } from 'yaml';
import type { GeneratedQuestion } from './open-generation';
import { openMetrics, type ScoredQuestion } from './open-scoring';
import { predictionsFileFor, rescoreRun } from './rescore';

// Judge plugins as plain objects (what defineJudge makes), loaded from paths as a spec would.
const EXACT = `module.exports = { default: { kind: 'judge', name: 'exact', version: '0.0.0', description: 'equal text',
  options: { safeParse: (v) => (v && v.strict === 'yes' ? { success: false, error: { issues: [{ path: ['strict'], message: 'not a boolean' }] } } : { success: true, data: v ?? {} }) },
  create: () => ({ name: 'exact', judge: async (items) => items.map((i) => { const c = i.references.includes(i.candidate); return { correct: c, confidence: c ? 1 : 0 }; }) }) } };\n`;
// A judge that also compares: right when equal to a reference, same meaning = same first letter, case aside.
const COMPARER = `module.exports = { default: { kind: 'judge', name: 'first-letter', version: '0.0.0', description: 'stub comparer',
  options: { safeParse: (v) => ({ success: true, data: v ?? {} }) },
  create: () => ({ name: 'first-letter', judge: async (items) => items.map((i) => { const c = i.references.includes(i.candidate); return { correct: c, confidence: c ? 1 : 0 }; }),
    entailment: async (pairs) => pairs.map((p) =>
    p.premise[0].toLowerCase() === p.hypothesis[0].toLowerCase() ? { entailment: 0.9, contradiction: 0.05 } : { entailment: 0.05, contradiction: 0.9 }) }) } };\n`;

const answer = (text: string, nll: number) => ({ text, ids: [1, 2], nll, tokens: 2, finishedWithEos: true });
const questions: GeneratedQuestion[] = [
  { id: 'q1', question: 'Capital of France?', references: ['paris'], answers: [answer('paris', 1), answer('Paris', 2), answer('lyon', 3)] },
  { id: 'q2', question: 'Two plus two?', references: ['4'], answers: [answer('four', 1), answer('5', 2)] },
];

describe('rescoreRun', () => {
  let dir: string;
  let run: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-rescore-'));
    run = path.join(dir, 'runs', 'r');
    await fs.mkdir(run, { recursive: true });
    await fs.writeFile(path.join(dir, 'exact.js'), EXACT);
    await fs.writeFile(path.join(dir, 'comparer.js'), COMPARER);
    const spec = { seed: 2, generation: { tieRule: 'wrong', bins: 5 }, scorer: { plugin: 'string-match', options: {} }, semantic: { comparer: { plugin: './comparer.js', options: {} }, strict: true } };
    await fs.writeFile(path.join(run, 'spec.resolved.yaml'), stringify(spec));
    await fs.writeFile(path.join(run, 'env.json'), JSON.stringify({ run: 'r', specDir: dir, assignment: {} }));
    await fs.writeFile(path.join(run, 'generations.jsonl'), questions.map((q) => `${JSON.stringify(q)}\n`).join(''));
    await fs.writeFile(path.join(run, 'generations.key'), 'abc\ncomplete 2\n');
    await fs.writeFile(path.join(run, 'results.json'), JSON.stringify({ run: 'r', wrapper: 'blob', metrics: { n: 2 } }));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("judges generations.jsonl again under the run's tie rule, bins and comparer, into new files", async () => {
    const got = await rescoreRun(run, { scorer: path.join(dir, 'exact.js'), log: silentLogger, progress: false });
    expect(got.resultsFile).toBe(path.join(run, 'results.exact.json'));
    expect(got.predictionsFile).toBe(path.join(run, 'predictions.exact.jsonl'));
    const rows = (await fs.readFile(got.predictionsFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ScoredQuestion);
    // Exact: only 'paris' is right; q2 has no right answer; under tieRule 'wrong' q1 (1 of 3) is wrong.
    expect(rows.map((r) => r.samples.map((s) => s.correct))).toEqual([[true, false, false], [false, false]]);
    // The spec's comparer (a path relative to the spec's folder): paris ~ Paris, lyon apart; four and 5 apart.
    expect(rows.map((r) => r.semantic_ids)).toEqual([[0, 0, 1], [0, 1]]);
    const results = JSON.parse(await fs.readFile(got.resultsFile, 'utf8'));
    expect(results.metrics).toEqual(JSON.parse(JSON.stringify(openMetrics(rows, { tieRule: 'wrong', bins: 5 }))));
    expect(results.metrics.acc).toBe(0);
    expect(results).toMatchObject({ run: 'r', wrapper: 'blob', scorer: { name: 'exact' }, semantic: { comparer: 'first-letter', strict: true }, rescored: { questions: 2, predictions: 'predictions.exact.jsonl' } });
    expect(JSON.parse(await fs.readFile(path.join(run, 'results.json'), 'utf8'))).toEqual({ run: 'r', wrapper: 'blob', metrics: { n: 2 } });
  });

  it("semantic.comparer 'scorer': the run's own scorer when it compares (the run's clusters), else the new one when it does, else none", async () => {
    const writeSpec = (scorer: string) => fs.writeFile(path.join(run, 'spec.resolved.yaml'), stringify({ seed: 2, scorer: { plugin: scorer, options: {} }, semantic: { comparer: 'scorer', strict: true } }));
    const idsOf = async (file: string) => (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as ScoredQuestion).semantic_ids);
    // The run was scored (and clustered) by the comparing judge, a relative path from the spec's folder.
    await writeSpec('./comparer.js');
    const exact = await rescoreRun(run, { scorer: path.join(dir, 'exact.js'), log: silentLogger, progress: false });
    expect(await idsOf(exact.predictionsFile)).toEqual([[0, 0, 1], [0, 1]]);
    // The run was scored by a judge that cannot compare: the new scorer compares.
    await writeSpec('./exact.js');
    const byNew = await rescoreRun(run, { scorer: path.join(dir, 'comparer.js'), log: silentLogger, progress: false });
    expect(await idsOf(byNew.predictionsFile)).toEqual([[0, 0, 1], [0, 1]]);
    // Neither compares: no semantic scores, said once.
    await writeSpec('./exact.js');
    const lines: string[] = [];
    const none = await rescoreRun(run, { scorer: path.join(dir, 'exact.js'), log: { ...silentLogger, info: (m: string) => void lines.push(m) }, progress: false });
    expect(await idsOf(none.predictionsFile)).toEqual([undefined, undefined]);
    expect(lines.filter((l) => l.includes('semantic'))).toEqual(["  semantic uncertainty: skipped, the scorer 'exact' cannot compare two answers (semantic: { comparer: nli } adds it)"]);
  });

  it('writes where --out says, predictions next to it', async () => {
    const out = path.join(dir, 'mine.json');
    const got = await rescoreRun(run, { scorer: path.join(dir, 'exact.js'), out, log: silentLogger, progress: false });
    expect(got.predictionsFile).toBe(path.join(dir, 'mine.predictions.jsonl'));
    await expect(fs.access(got.predictionsFile)).resolves.toBeUndefined();
    expect(predictionsFileFor('/x/results.nli.json')).toBe('/x/predictions.nli.jsonl');
  });

  it("refuses the run's own files, bad scorer options, and generations a stopped run left incomplete", async () => {
    const scorer = path.join(dir, 'exact.js');
    await expect(rescoreRun(run, { scorer, out: path.join(run, 'results.json'), log: silentLogger, progress: false })).rejects.toThrow("is one of the run's own files");
    await expect(rescoreRun(run, { scorer, scorerOptions: { strict: 'yes' }, log: silentLogger, progress: false })).rejects.toThrow('--options: strict: not a boolean');
    await fs.writeFile(path.join(run, 'generations.key'), 'abc\n');
    await fs.rm(path.join(run, 'results.json'));
    await expect(rescoreRun(run, { scorer, log: silentLogger, progress: false })).rejects.toThrow(/holds 2 questions and the run stopped before it finished generating: run its spec again/);
    await expect(rescoreRun(dir, { scorer, log: silentLogger, progress: false })).rejects.toThrow(/is not a run folder \(no spec\.resolved\.yaml\)/);
  });
});
