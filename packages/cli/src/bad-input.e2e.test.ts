import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { completeRunFolders, exists, runCli, tempDir, tinyModel } from './cli.test-support';

// Each kind of bad input gives one clear message, a non-zero exit, and no run folder that
// looks complete.
describe('bad input', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    dir = await tempDir('bad');
    model = await tinyModel(dir);
  });

  async function expectClearFailure(name: string, specText: string, pattern: RegExp): Promise<string> {
    const file = path.join(dir, `${name}.yaml`);
    const output = path.join(dir, `runs-${name}`);
    await fs.writeFile(file, specText.replace('OUTPUT', output));
    const res = await runCli('experiment', file, '--no-progress');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(pattern);
    // A user error prints its message, never a stack trace.
    expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(await completeRunFolders(output)).toEqual([]);
    return res.stderr;
  }

  const base = (overrides: { model?: string; dataset?: string; wrapper?: string; train?: string } = {}) => `
name: bad
output: OUTPUT
model:
  path: ${overrides.model ?? 'MODEL'}
dataset: ${overrides.dataset ?? '{ plugin: toy, options: { trainSize: 16, testSize: 8 } }'}
wrapper: ${overrides.wrapper ?? 'mle'}
train: ${overrides.train ?? '{ steps: 2, batchSize: 4, maxSeqLen: 48 }'}
`;

  it('unknown plugin: names it and lists the known ones', async () => {
    const err = await expectClearFailure('unknown', base({ model, wrapper: 'blobb' }), /unknown wrapper plugin 'blobb'/);
    expect(err).toMatch(/Known wrapper plugins: .*mle.*blob/);
    expect(err).toMatch(/wrapper\.plugin/);
  });

  it('invalid option: names the YAML path, the line and the value', async () => {
    const err = await expectClearFailure('option', base({ model, wrapper: '{ plugin: blob, options: { beta: -1 } }' }), /wrapper\.options\.beta/);
    expect(err).toMatch(/line 7/);
    expect(err).toMatch(/-1/);
  });

  it('invalid core option: names the YAML path', async () => {
    await expectClearFailure('core-option', base({ model, train: '{ steps: many }' }), /line 8: train\.steps: expected number; got "many"/);
  });

  it('missing model folder: names the path', async () => {
    const missing = path.join(dir, 'no-such-model');
    await expectClearFailure('model', base({ model: missing }), new RegExp(`${missing.replace(/[/.-]/g, '\\$&')}`));
  });

  it('truncated safetensors: names the file and the tensor', async () => {
    const broken = path.join(dir, 'truncated-model');
    await fs.cp(model, broken, { recursive: true });
    const weights = path.join(broken, 'model.safetensors');
    const { size } = await fs.stat(weights);
    await fs.truncate(weights, Math.floor(size * 0.6));
    const err = await expectClearFailure('truncated', base({ model: broken }), /model\.safetensors/);
    expect(err).toMatch(/truncated/);
    expect(err).toMatch(/tensor '[\w.]+'/);
  });

  it('malformed dataset row: names the file and the line', async () => {
    const data = path.join(dir, 'arc-data');
    await fs.mkdir(data, { recursive: true });
    const good = (id: string) =>
      JSON.stringify({ id, question: 'Which box?', choices: { text: ['red', 'blue', 'green', 'white'], label: ['A', 'B', 'C', 'D'] }, answerKey: 'A' });
    await fs.writeFile(path.join(data, 'train.jsonl'), [good('a1'), good('a2'), good('a3'), good('a4')].join('\n') + '\n');
    await fs.writeFile(
      path.join(data, 'validation.jsonl'),
      [good('v1'), good('v2'), JSON.stringify({ id: 'v3', question: 'Which box?', choices: { text: ['x'], label: ['A'] }, answerKey: null })].join('\n') + '\n',
    );
    await expectClearFailure('row', base({ model, dataset: `{ plugin: arc, options: { source: ${data} } }` }), /validation\.jsonl line 3: field 'answerKey'/);
  });

  it('unreadable spec file: says so', async () => {
    const res = await runCli('experiment', path.join(dir, 'nope.yaml'));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/cannot read run spec .*nope\.yaml: ENOENT/);
  });

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const output = path.join(dir, 'runs-nan');
    const file = path.join(dir, 'nan.yaml');
    await fs.writeFile(
      file,
      base({ model, train: '{ steps: 40, batchSize: 4, maxSeqLen: 48, lr: 1.0e+30, warmupRatio: 0, checkpointEvery: 1 }' }).replace('OUTPUT', output),
    );
    const res = await runCli('experiment', file, '--no-progress');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/non-finite loss at step (\d+) .*last good checkpoint is kept/);
    const step = Number(/non-finite loss at step (\d+)/.exec(res.stderr)![1]);
    const run = path.join(output, 'bad', 'mle-toy-seed1');
    expect(await completeRunFolders(output)).toEqual([]);
    expect(JSON.parse(await fs.readFile(path.join(run, 'status.json'), 'utf8')).state).toBe('failed');
    const checkpoint = JSON.parse(await fs.readFile(path.join(run, 'adapter', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.step).toBe(step - 1);
    expect(await exists(path.join(run, 'adapter', 'adapter_model.safetensors'))).toBe(true);
  });

  describe('open-ended specs: each mistake is named by its YAML path before anything runs', () => {
    const open = (extra: string) => `${base({ model, dataset: '{ plugin: triviaqa, options: { source: ./no-rows-needed } }' })}${extra}`;

    it('an option only multiple-choice evaluation reads', async () => {
      await expectClearFailure('open-bins', open('eval: { bins: 15 }\n'), /line \d+: eval\.bins: applies to multiple-choice datasets only; 'triviaqa' is open-ended \(generation\.bins/);
    });

    it('a scorer that does not exist', async () => {
      const err = await expectClearFailure('open-scorer', open('scorer: nosuch\n'), /scorer\.plugin: unknown judge plugin 'nosuch'/);
      expect(err).toMatch(/Known judge plugins: .*string-match/);
    });

    it('a negative temperature', async () => {
      await expectClearFailure('open-temperature', open('generation: { temperature: -0.5 }\n'), /line \d+: generation\.temperature: .*>=0; got -0\.5/);
    });

    it('max new tokens 0', async () => {
      await expectClearFailure('open-max-new', open('generation: { maxNewTokens: 0 }\n'), /line \d+: generation\.maxNewTokens: .*>0; got 0/);
    });

    it('generation settings on a multiple-choice spec', async () => {
      await expectClearFailure('mcq-generation', `${base({ model })}generation: { maxNewTokens: 20 }\n`, /line \d+: generation: applies to open-ended datasets only/);
    });

    it('semantic settings on a multiple-choice spec', async () => {
      await expectClearFailure('mcq-semantic', `${base({ model })}semantic: { strict: false }\n`, /line \d+: semantic: applies to open-ended datasets only/);
    });

    it('a semantic comparer that does not exist, or a bad strict', async () => {
      await expectClearFailure('open-comparer', open('semantic: { comparer: { plugin: nosuch } }\n'), /line \d+: semantic\.comparer\.plugin: unknown judge plugin 'nosuch'/);
      await expectClearFailure('open-strict', open('semantic: { strict: maybe }\n'), /line \d+: semantic\.strict: expected boolean; got "maybe"/);
    });
  });

  it('rescore: a folder that is not a run, options that are not JSON, a run without generations', async () => {
    const noRun = await runCli('rescore', dir, '--scorer', 'string-match');
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toBe(`error: ${dir} is not a run folder (no spec.resolved.yaml)\n`);
    const notJson = await runCli('rescore', dir, '--scorer', 'string-match', '--options', '{mode: exact}');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: --options: not JSON \(.*\): \{mode: exact\}\n$/);
    const run = path.join(dir, 'rescore-run');
    await fs.mkdir(run, { recursive: true });
    await fs.writeFile(path.join(run, 'spec.resolved.yaml'), 'seed: 1\n');
    const noGenerations = await runCli('rescore', run, '--scorer', 'string-match');
    expect(noGenerations.stderr).toBe(`error: ${run} has no generations.jsonl (rescore needs an open-ended run)\n`);
  });
});
