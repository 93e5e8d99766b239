import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '@bayes-peft/core';
import { runExperiment } from '@bayes-peft/runner';
import { findShared } from '@bayes-peft/fixtures';
import { stringify } from 'yaml';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { tempDir } from './cli.test-support';
import { mcqCases, writeMmluFile } from './mcq-cases.test-support';

// Every multiple-choice dataset through a real run on a real pretrained Llama (stories260K): a
// few LoRA training steps and a final evaluation, with tiny settings so the whole matrix runs in
// seconds.
const shared = findShared('', 'the MCQ experiment over every multiple-choice dataset (stories260K and shared/data)');
const d = shared ? describe : describe.skip;

d('an experiment on stories260K over every multiple-choice dataset', () => {
  it('trains 2 steps and evaluates 8 examples of each', async () => {
    const dir = await tempDir('mcq-e2e');
    const cases = mcqCases(shared!, await writeMmluFile(dir));
    const spec = {
      name: 'mcq',
      seed: 1,
      output: path.join(dir, 'runs'),
      model: { path: path.join(shared!, 'models', 'stories260K') },
      wrapper: 'mle',
      lora: { r: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'lm_head'] },
      train: { steps: 2, batchSize: 2, lr: 0.01, maxSeqLen: 64 },
      eval: { batchSize: 8 },
      matrix: { dataset: cases.map((c) => ({ plugin: c.plugin, options: { ...c.options, maxTrainExamples: 8, maxTestExamples: 8 } })) },
    };
    const file = path.join(dir, 'mcq.yaml');
    await fs.writeFile(file, stringify(spec));

    const summaries = await runExperiment(file, { log: silentLogger, progress: false, searchPaths: [path.resolve(__dirname, '..')], builtinPlugins: BUILTIN_PLUGINS });
    expect(summaries.map((s) => s.dataset)).toEqual(cases.map((c) => c.plugin));
    for (const [i, c] of cases.entries()) {
      const s = summaries[i];
      // Ids carry the dataset configuration (subset, size, group) so matrix runs never collide.
      expect(s.id).toMatch(new RegExp(`^mle-${c.plugin}(-[\\w.-]+)?-seed1$`));
      expect(s.metrics.n).toBe(8);
      expect(s.metrics.acc).toBeGreaterThanOrEqual(0);
      expect(s.metrics.acc).toBeLessThanOrEqual(1);
      for (const k of ['ece', 'nll', 'brier'] as const) expect(Number.isFinite(s.metrics[k])).toBe(true);
      const predictions = (await fs.readFile(path.join(s.dir, 'predictions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { label: number; probs: number[] });
      expect(predictions).toHaveLength(8);
      for (const p of predictions) {
        expect(p.probs).toHaveLength(c.classes);
        expect(p.label).toBeGreaterThanOrEqual(0);
        expect(p.label).toBeLessThan(c.classes);
      }
      const lines = (await fs.readFile(path.join(s.dir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { phase: string; step: number; loss?: number });
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.step)).toEqual([1, 2]);
      expect(lines[lines.length - 1].phase).toBe('final');
      const results = JSON.parse(await fs.readFile(path.join(s.dir, 'results.json'), 'utf8'));
      expect(results.dataset).toBe(c.plugin);
    }
    await fs.rm(dir, { recursive: true, force: true });
  });
});
