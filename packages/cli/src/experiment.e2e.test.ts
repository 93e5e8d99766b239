import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { classificationMetrics } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { completeRunFolders, runCli, tempDir, tinyModel } from './cli.test-support';
import { BUILTIN_PLUGINS } from './builtin-plugins';

// End to end through the CLI: the quickstart's path (tiny random Llama, toy dataset, mle and
// blob in one matrix) at a size that runs in seconds.
function spec(model: string, output: string, extra = ''): string {
  return `
name: e2e
seed: 3
output: ${output}
model:
  path: ${model}
dataset:
  plugin: toy
  options: { trainSize: 64, testSize: 24 }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }
train: { steps: 6, batchSize: 8, lr: 0.01, maxSeqLen: 48, evalEvery: 3 }
eval: { batchSize: 16 }
matrix:
  wrapper:
    - mle
    - plugin: blob
      options: { evalSamples: 2, evalSamplesFinal: 3 }
${extra}`;
}

describe('bayes-peft experiment (end to end)', () => {
  let dir: string;
  let model: string;
  let specFile: string;

  beforeAll(async () => {
    dir = await tempDir('e2e');
    model = await tinyModel(dir);
    specFile = path.join(dir, 'spec.yaml');
    await fs.writeFile(specFile, spec(model, path.join(dir, 'runs')));
  });

  it('trains and evaluates mle and blob, writing complete run folders', async () => {
    const res = await runCli('experiment', specFile, '--no-progress');
    expect(res.stderr).toMatch(/backend: /);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/method\s+dataset\s+runs\s+ACC\s+ECE\s+NLL\s+Brier/);
    expect(res.stdout).toMatch(/\nmle\s+toy/);
    expect(res.stdout).toMatch(/\nblob\s+toy/);

    for (const wrapper of ['mle', 'blob']) {
      const run = path.join(dir, 'runs', 'e2e', `${wrapper}-toy-seed3`);
      const files = await fs.readdir(run);
      expect(files.sort()).toEqual(['adapter', 'env.json', 'metrics.jsonl', 'predictions.jsonl', 'results.json', 'spec.resolved.yaml', 'status.json']);
      const results = JSON.parse(await fs.readFile(path.join(run, 'results.json'), 'utf8'));
      expect(results.wrapper).toBe(wrapper);
      expect(results.dataset).toBe('toy');
      expect(results.model).toBe(model);
      for (const k of ['acc', 'ece', 'nll', 'brier', 'entropy', 'mutual_info']) expect(Number.isFinite(results.metrics[k])).toBe(true);
      expect(results.metrics.n).toBe(24);

      // The metrics recomputed from predictions.jsonl equal results.json exactly.
      const rows = (await fs.readFile(path.join(run, 'predictions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows).toHaveLength(24);
      expect(Object.keys(rows[0]).sort()).toEqual(['id', 'label', 'probs', 'sample_probs']);
      expect(rows[0].sample_probs).toHaveLength(wrapper === 'blob' ? 3 : 1);
      const recomputed = classificationMetrics(rows.map((r) => ({ id: r.id, label: r.label, probs: r.probs, sampleProbs: r.sample_probs })));
      const { val_flip_ratio: flipRatio, ...sampled } = results.metrics;
      expect(recomputed).toEqual(sampled);
      // blob has a posterior mean (predictMean): its final evaluation adds the share of the 24 decisions its sampling flips
      if (wrapper === 'blob') expect(Number.isInteger(flipRatio * 24) && flipRatio >= 0 && flipRatio <= 1).toBe(true);
      else expect(flipRatio).toBeUndefined();

      // One train line per step, an intermediate eval at step 3, a final line.
      const lines = (await fs.readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lines.filter((l) => l.phase === 'eval').map((l) => l.step)).toEqual([3]);
      expect(lines[lines.length - 1].phase).toBe('final');

      const env = JSON.parse(await fs.readFile(path.join(run, 'env.json'), 'utf8'));
      expect(env.seed).toBe(3);
      expect(typeof env.backend).toBe('string');
      expect(env.packages['@bayes-peft/core']).toMatch(/\d+\.\d+\.\d+/);
      const status = JSON.parse(await fs.readFile(path.join(run, 'status.json'), 'utf8'));
      expect(status.state).toBe('complete');
      expect(await fs.readdir(path.join(run, 'adapter'))).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors']));
    }
  });

  it('gives identical metrics for the same spec and seed', async () => {
    const other = path.join(dir, 'spec-again.yaml');
    await fs.writeFile(other, spec(model, path.join(dir, 'runs-again')));
    const res = await runCli('experiment', other, '--no-progress');
    expect(res.code).toBe(0);
    for (const wrapper of ['mle', 'blob']) {
      const a = JSON.parse(await fs.readFile(path.join(dir, 'runs', 'e2e', `${wrapper}-toy-seed3`, 'results.json'), 'utf8'));
      const b = JSON.parse(await fs.readFile(path.join(dir, 'runs-again', 'e2e', `${wrapper}-toy-seed3`, 'results.json'), 'utf8'));
      expect(b.metrics).toEqual(a.metrics);
    }
  });

  it('skips complete runs when run again, and reruns them with --force', async () => {
    const again = await runCli('experiment', specFile, '--no-progress');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/complete already/);
    expect(again.stderr).not.toMatch(/train 6\/6/);
  });

  it('keeps the tensor count flat across a whole run', async () => {
    const before = tf.memory().numTensors;
    const res = await runCli('experiment', specFile, '--no-progress', '--force');
    expect(res.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes an interrupted run from its checkpoint and ends where an uninterrupted run ends', async () => {
    const { silentLogger } = await import('@bayes-peft/core');
    const { runExperiment } = await import('@bayes-peft/runner');
    const file = path.join(dir, 'resume.yaml');
    await fs.writeFile(file, spec(model, path.join(dir, 'runs-resume')).replace(/matrix:[\s\S]*$/, 'wrapper: mle\n'));
    const controller = new AbortController();
    const log = { ...silentLogger, info: (m: string) => (m.includes('step 3:') ? controller.abort() : undefined) };
    // The intermediate evaluation at step 3 logs "step 3: ..."; abort there.
    await expect(runExperiment(file, { log, progress: false, signal: controller.signal, searchPaths: [path.resolve(__dirname, '..')], builtinPlugins: BUILTIN_PLUGINS })).rejects.toThrow(
      /interrupted after step 3 of 6/,
    );
    const run = path.join(dir, 'runs-resume', 'e2e', 'mle-toy-seed3');
    expect(await completeRunFolders(path.join(dir, 'runs-resume'))).toEqual([]);
    expect(JSON.parse(await fs.readFile(path.join(run, 'status.json'), 'utf8')).state).toBe('interrupted');

    const lines: string[] = [];
    const resumed = await runExperiment(file, { log: { ...silentLogger, info: (m) => lines.push(m) }, progress: false, searchPaths: [path.resolve(__dirname, '..')], builtinPlugins: BUILTIN_PLUGINS });
    expect(lines.join('\n')).toMatch(/resuming from the checkpoint at step 3 of 6/);
    const uninterrupted = JSON.parse(await fs.readFile(path.join(dir, 'runs', 'e2e', 'mle-toy-seed3', 'results.json'), 'utf8'));
    expect(resumed[0].metrics).toEqual(uninterrupted.metrics);
  });
});
