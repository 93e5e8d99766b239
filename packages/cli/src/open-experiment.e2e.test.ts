import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  binaryBrierScore,
  binaryCalibrationError,
  clusterByMeaning,
  discreteSemanticEntropy,
  generativeMetrics,
  largestCluster,
  largestClusterCorrect,
  incorrectFraction,
  lengthNormalisedSequenceEntropy,
  maximumSequenceProbabilityScore,
  rankingMetrics,
  semanticEntropy,
  semanticSetCount,
  sequenceEntropy,
  silentLogger,
  type Logger,
} from '@bayes-peft/core';
import { findShared } from '@bayes-peft/fixtures';
import { runExperiment, summaryTable } from '@bayes-peft/runner';
import { stringify } from 'yaml';
import { createStringMatchJudge } from '@bayes-peft/scorer-string-match';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { runCli, tempDir, triviaqaSpec } from './cli.test-support';

// Open-ended QA end to end on a real pretrained Llama (stories260K) and real TriviaQA rows: a few
// training steps on the answer tokens, S sampled answers per question, string-match scoring, and
// the files a researcher reads afterwards.
const shared = findShared('', 'open-ended runs on stories260K and TriviaQA rows');
const d = shared ? describe : describe.skip;
const TIMEOUT = 120_000;

interface PredictionRow {
  id: string;
  question: string;
  references: string[];
  samples: { text: string; nll: number; nll_per_token: number; tokens: number; correct: boolean; confidence: number }[];
  correct_fraction: number;
  correct: number;
  scores: Record<string, number>;
  semantic_ids?: number[];
  semantic_correct?: boolean;
}

const readJsonl = async <T>(file: string): Promise<T[]> =>
  (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** results.json keeps NaN (nothing to rank) as null. */
const fromJson = (v: number | null): number => (v === null ? NaN : v);

d('an open-ended experiment on stories260K and TriviaQA', () => {
  let dir: string;
  const spec = (output: string, extra: Record<string, unknown> = {}) =>
    triviaqaSpec(shared!, {
      name: 'open',
      seed: 3,
      output,
      wrapper: 'blob',
      trainExamples: 16,
      testQuestions: 6,
      train: { steps: 3, batchSize: 4, lr: 0.01, maxSeqLen: 96 },
      generation: { maxNewTokens: 8, samples: { intermediate: 2, final: 3 }, batchSize: 3 },
      ...extra,
    });
  const run = async (name: string, value: Record<string, unknown>, log: Logger = silentLogger) => {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, stringify(value));
    return runExperiment(file, { log, progress: false, builtinPlugins: BUILTIN_PLUGINS });
  };

  beforeAll(async () => {
    dir = await tempDir('open-e2e');
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it(
    'trains, generates S answers per question, scores them, and results.json recomputes exactly from predictions.jsonl',
    async () => {
      const [summary] = await run('open', spec(path.join(dir, 'runs')));
      const rows = await readJsonl<PredictionRow>(path.join(summary.dir, 'predictions.jsonl'));
      expect(rows).toHaveLength(6);
      for (const r of rows) {
        expect(r.samples).toHaveLength(3);
        expect(r.references.length).toBeGreaterThan(0);
        for (const s of r.samples) {
          expect(s.tokens).toBeGreaterThanOrEqual(1);
          expect(s.tokens).toBeLessThanOrEqual(8);
          expect(s.nll).toBeGreaterThan(0);
          expect(s.nll_per_token).toBeCloseTo(s.nll / s.tokens, 12);
          expect(s.confidence).toBe(s.correct ? 1 : 0);
        }
      }
      // The three weight samples of a question are different models: their answers are not all one.
      expect(rows.some((r) => new Set(r.samples.map((s) => s.text)).size > 1)).toBe(true);

      // Recompute every metric from the rows with core's pure functions.
      const results = JSON.parse(await fs.readFile(path.join(summary.dir, 'results.json'), 'utf8')) as { metrics: Record<string, number | null> };
      const m = results.metrics;
      const base = generativeMetrics(
        rows.map((r) => ({ correct: r.samples.map((s) => s.correct), nll: r.samples.map((s) => s.nll) })),
        { tieRule: 'half', bins: 10 },
      );
      for (const [k, v] of Object.entries(base)) expect(fromJson(m[k] ?? null)).toBe(v);
      const sequences = (r: PredictionRow) => r.samples.map((s) => ({ logLikelihood: -s.nll, length: s.tokens }));
      const scores: Record<string, (r: PredictionRow) => number> = {
        seq_entropy: (r) => sequenceEntropy(sequences(r)),
        seq_entropy_norm: (r) => lengthNormalisedSequenceEntropy(sequences(r)),
        max_seq_prob: (r) => maximumSequenceProbabilityScore(sequences(r)),
        incorrect_fraction: (r) => incorrectFraction(r.samples.map((s) => s.correct)),
      };
      const wrong = rows.map((r) => r.correct !== 1);
      for (const [name, score] of Object.entries(scores)) {
        for (const r of rows) expect(r.scores[name]).toBe(score(r));
        const ranking = rankingMetrics(rows.map(score), wrong);
        for (const [metric, v] of Object.entries(ranking)) expect(fromJson(m[`${metric}_${name}`] ?? null)).toBe(v);
      }
      expect(fromJson(m.auroc)).toBe(fromJson(m.auroc_seq_entropy_norm));

      // Generations were written before scoring, one row per question with every sample's ids.
      const generations = await readJsonl<{ id: string; answers: { text: string; ids: number[] }[] }>(path.join(summary.dir, 'generations.jsonl'));
      expect(generations.map((g) => g.id)).toEqual(rows.map((r) => r.id));
      expect(generations.map((g) => g.answers.map((a) => a.text))).toEqual(rows.map((r) => r.samples.map((s) => s.text)));

      // Training saw only answer tokens: the loss was finite and logged every step.
      const lines = await readJsonl<{ phase: string; step: number; nll?: number }>(path.join(summary.dir, 'metrics.jsonl'));
      const train = lines.filter((l) => l.phase === 'train');
      expect(train.map((l) => l.step)).toEqual([1, 2, 3]);
      for (const l of train) expect(Number.isFinite(l.nll)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'a run whose scorer throws keeps generations.jsonl; a rerun scores them without training or generating again',
    async () => {
      const judgeFile = path.join(dir, 'broken-judge.js');
      // A judge plugin as a plain object (what defineJudge makes), whose scoring fails.
      await fs.writeFile(
        judgeFile,
        `module.exports = { default: { kind: 'judge', name: 'broken', version: '0.0.0', description: 'fails',
          options: { safeParse: (v) => ({ success: true, data: v ?? {} }) },
          create: () => ({ name: 'broken', judge: async () => { throw new Error('the judge service is down'); } }) } };\n`,
      );
      const output = path.join(dir, 'runs-resume');
      await expect(run('resume', spec(output, { scorer: { plugin: judgeFile } }))).rejects.toThrow('the judge service is down');
      const runDir = path.join(output, 'open', 'blob-triviaqa-rc.nocontext-seed3');
      const status = JSON.parse(await fs.readFile(path.join(runDir, 'status.json'), 'utf8'));
      expect(status.state).toBe('failed');
      const kept = await readJsonl<{ id: string }>(path.join(runDir, 'generations.jsonl'));
      expect(kept).toHaveLength(6);

      const lines: string[] = [];
      const log: Logger = { ...silentLogger, info: (m: string) => void lines.push(m) };
      const [resumed] = await run('resume', spec(output), log);
      expect(lines.join('\n')).toMatch(/training finished in an earlier attempt/);
      expect(lines.join('\n')).toMatch(/6 of 6 questions already generated/);
      // String match cannot compare two answers: no semantic scores, said once.
      expect(lines.filter((l) => l.includes("semantic uncertainty: skipped, the scorer 'string-match' cannot compare two answers"))).toHaveLength(1);

      // The same answers and scores as a run that never failed.
      const [fresh] = await run('fresh', spec(path.join(dir, 'runs-fresh')));
      expect(await fs.readFile(path.join(resumed.dir, 'predictions.jsonl'), 'utf8')).toBe(await fs.readFile(path.join(fresh.dir, 'predictions.jsonl'), 'utf8'));
      expect(resumed.metrics).toEqual(fresh.metrics);
    },
    TIMEOUT,
  );

  it(
    'with a comparer plugin: answers clustered by meaning, semantic scores in predictions.jsonl and results.json; rescore judges them again into new files',
    async () => {
      // A stub comparer: two answers mean the same when their first words match (case aside).
      const comparerFile = path.join(dir, 'first-word.js');
      await fs.writeFile(
        comparerFile,
        `const first = (t) => t.trim().toLowerCase().split(/\\s+/)[0];
        module.exports = { default: { kind: 'judge', name: 'first-word', version: '0.0.0', description: 'stub comparer',
          options: { safeParse: (v) => ({ success: true, data: v ?? {} }) },
          create: () => ({ name: 'first-word', judge: async () => [], entailment: async (pairs) => pairs.map((p) =>
            first(p.premise) === first(p.hypothesis) ? { entailment: 0.9, contradiction: 0.05 } : { entailment: 0.05, contradiction: 0.9 }) }) } };\n`,
      );
      const same = (a: string, b: string) => a.trim().toLowerCase().split(/\s+/)[0] === b.trim().toLowerCase().split(/\s+/)[0];
      const [summary] = await run('semantic', spec(path.join(dir, 'runs-semantic'), { semantic: { comparer: { plugin: comparerFile } } }));
      const rows = await readJsonl<PredictionRow>(path.join(summary.dir, 'predictions.jsonl'));
      const m = summary.metrics;
      const sequences = (r: PredictionRow) => r.samples.map((s) => ({ logLikelihood: -s.nll, length: s.tokens }));
      for (const r of rows) {
        const texts = r.samples.map((s) => s.text);
        const clusters = clusterByMeaning(texts, (p, h) => (same(texts[p], texts[h]) ? { entailment: 0.9, contradiction: 0.05 } : { entailment: 0.05, contradiction: 0.9 }), { strict: true });
        expect(r.semantic_ids).toEqual(clusters.ids);
        expect(r.semantic_correct).toBe(largestClusterCorrect(clusters, r.samples.map((s) => s.correct)));
        expect(r.scores.semantic_entropy).toBe(semanticEntropy(clusters.ids, sequences(r)));
        expect(r.scores.semantic_entropy_discrete).toBe(discreteSemanticEntropy(clusters.ids));
        expect(r.scores.semantic_sets).toBe(semanticSetCount(clusters.ids));
        expect(r.scores.semantic_disagreement).toBe(1 - largestCluster(clusters.ids).share);
      }
      const wrong = rows.map((r) => r.correct !== 1);
      for (const name of ['semantic_entropy', 'semantic_entropy_discrete', 'semantic_sets', 'semantic_disagreement']) {
        const ranking = rankingMetrics(rows.map((r) => r.scores[name]), wrong);
        for (const [metric, v] of Object.entries(ranking)) expect(m[`${metric}_${name}`]).toBe(v);
      }
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      expect(m.semantic_entropy).toBe(mean(rows.map((r) => r.scores.semantic_entropy)));
      expect(m.semantic_sets).toBe(mean(rows.map((r) => r.scores.semantic_sets)));
      expect(m.semantic_acc).toBe(mean(rows.map((r) => (r.semantic_correct ? 1 : 0))));
      const share = rows.map((r) => largestCluster(r.semantic_ids!).share);
      const outcome = rows.map((r) => (r.semantic_correct ? 1 : 0));
      expect(m.semantic_ece).toBe(binaryCalibrationError(share, outcome, 10));
      expect(m.semantic_brier).toBe(binaryBrierScore(share, outcome));

      // Rescore with exact matching: new files beside the run's own, which stay as they were.
      const before = await fs.readFile(path.join(summary.dir, 'results.json'), 'utf8');
      const cli = await runCli('rescore', summary.dir, '--scorer', 'string-match', '--options', '{"mode": "exact"}', '--no-progress');
      expect(cli.stderr).not.toMatch(/error/);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(path.join(summary.dir, 'results.string-match.json'));
      expect(await fs.readFile(path.join(summary.dir, 'results.json'), 'utf8')).toBe(before);
      const again = await readJsonl<PredictionRow>(path.join(summary.dir, 'predictions.string-match.jsonl'));
      const rescored = JSON.parse(await fs.readFile(path.join(summary.dir, 'results.string-match.json'), 'utf8')) as { metrics: Record<string, number | null>; scorer: { options: unknown } };
      expect(rescored.scorer.options).toEqual({ normalize: 'reference', mode: 'exact' });
      // The verdicts are exact matching's (never right where containment was not); the answers,
      // their likelihoods and their clusters are the run's.
      const exact = createStringMatchJudge({ normalize: 'reference', mode: 'exact' });
      for (const [i, r] of again.entries()) {
        const verdicts = await exact.judge(r.samples.map((s) => ({ id: r.id, question: r.question, references: r.references, candidate: s.text })));
        expect(r.samples.map((s) => s.correct)).toEqual(verdicts.map((v) => v.correct));
        for (const [j, s] of r.samples.entries()) if (s.correct) expect(rows[i].samples[j].correct).toBe(true);
        expect(r.samples.map((s) => [s.text, s.nll])).toEqual(rows[i].samples.map((s) => [s.text, s.nll]));
        expect(r.semantic_ids).toEqual(rows[i].semantic_ids);
        for (const name of ['seq_entropy', 'seq_entropy_norm', 'max_seq_prob', 'semantic_entropy', 'semantic_sets']) expect(r.scores[name]).toBe(rows[i].scores[name]);
      }
      // Its metrics recompute from its own predictions: the judge-derived ones follow the new verdicts.
      const base = generativeMetrics(
        again.map((r) => ({ correct: r.samples.map((s) => s.correct), nll: r.samples.map((s) => s.nll) })),
        { tieRule: 'half', bins: 10 },
      );
      for (const [k, v] of Object.entries(base)) expect(fromJson(rescored.metrics[k] ?? null)).toBe(v);
      expect(rescored.metrics.nll).toBe(m.nll);
      expect(rescored.metrics.semantic_entropy).toBe(m.semantic_entropy);
      const wrongAgain = again.map((r) => r.correct !== 1);
      for (const name of ['incorrect_fraction', 'semantic_entropy']) {
        const ranking = rankingMetrics(again.map((r) => r.scores[name]), wrongAgain);
        for (const [metric, v] of Object.entries(ranking)) expect(fromJson(rescored.metrics[`${metric}_${name}`] ?? null)).toBe(v);
      }
      expect(rescored.metrics.acc!).toBeLessThanOrEqual(m.acc);
    },
    TIMEOUT,
  );

  it(
    'the nli scorer on the shared tiny model judges and clusters the answers; the table has SE; rescoring by string match keeps the NLI clusters',
    async () => {
      const nli = { plugin: 'nli', options: { model: path.join(shared!, 'models', 'tiny-nli') } };
      const [summary] = await run('nli', spec(path.join(dir, 'runs-nli'), { scorer: nli }));
      const rows = await readJsonl<PredictionRow & { samples: { detail?: string }[] }>(path.join(summary.dir, 'predictions.jsonl'));
      for (const r of rows) {
        for (const s of r.samples) {
          expect(s.confidence).toBeGreaterThanOrEqual(0);
          expect(s.confidence).toBeLessThanOrEqual(1);
        }
        expect(r.semantic_ids).toHaveLength(3);
        // Equal answers share a cluster without a comparison.
        const texts = r.samples.map((s) => s.text);
        for (const [i, t] of texts.entries()) expect(r.semantic_ids![i]).toBe(r.semantic_ids![texts.indexOf(t)]);
        expect(r.scores.semantic_sets).toBe(new Set(r.semantic_ids).size);
      }
      expect(Object.keys(summary.metrics)).toEqual(expect.arrayContaining(['semantic_entropy', 'auroc_semantic_entropy', 'semantic_sets', 'semantic_acc']));
      const [header] = summaryTable([summary]).split('\n');
      expect(header).toMatch(/PRR\s+SE\s+AUROC\(SE\)$/);

      const cli = await runCli('rescore', summary.dir, '--scorer', 'string-match', '--options', '{"mode": "exact"}', '--no-progress', '--json');
      expect(cli.code).toBe(0);
      const got = JSON.parse(cli.stdout) as { predictionsFile: string; metrics: Record<string, number> };
      const again = await readJsonl<PredictionRow>(got.predictionsFile);
      expect(again.map((r) => r.semantic_ids)).toEqual(rows.map((r) => r.semantic_ids));
      expect(got.metrics.semantic_entropy).toBe(summary.metrics.semantic_entropy);
      expect(cli.stderr).toMatch(/semantic clusters: \d+ answer pairs compared by 'nli' \(strict\)/);
    },
    TIMEOUT,
  );
});
