import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { readEnv } from '@bayes-peft/env';
import { findShared } from '@bayes-peft/fixtures';
import { newestCheckpoint, runStatus } from '@bayes-peft/runner';
import { tempDir, triviaqaSpec } from './cli.test-support';
import { experiment, expectNotComplete, expectSameRun, seeded } from './kill.test-support';

// kill-anywhere.e2e.test.ts for an open-ended run (BLoB on stories260K and TriviaQA rows): killed
// inside a step, in the middle of the final generation (generations.jsonl holds some questions'
// answers: the rerun keeps them and generates only the rest) and while the scored results are
// written, it ends with the same generations.jsonl, predictions.jsonl, results.json,
// metrics.jsonl and adapter, byte for byte, as a run that never stopped. That needs each
// generation batch's draws to depend on the batch alone, not on how many came before it in the
// process.

const shared = findShared('', 'the open-ended kill test (stories260K and TriviaQA rows)');
const d = shared ? describe : describe.skip;

const STEPS = 6;
const EVERY = 3; // an intermediate evaluation and a checkpoint after step 3; a checkpoint after 6
const QUESTIONS = 6;
const GENERATION_BATCH = 2;
const GENERATION_BATCHES = QUESTIONS / GENERATION_BATCH;

d('an open-ended run killed with SIGKILL three times, run again after each (end to end)', () => {
  let dir: string;
  const spec = (output: string) =>
    stringify(
      triviaqaSpec(shared!, {
        name: 'kill-open',
        seed: 3,
        output,
        wrapper: { plugin: 'blob', options: { evalSamples: 2, evalSamplesFinal: 3 } },
        trainExamples: 16,
        testQuestions: QUESTIONS,
        train: { steps: STEPS, batchSize: 4, lr: 0.01, maxSeqLen: 96, evalEvery: EVERY },
        generation: { maxNewTokens: 8, samples: { intermediate: 2, final: 3 }, batchSize: GENERATION_BATCH },
      }),
    );

  beforeAll(async () => {
    if (!existsSync(path.join(__dirname, '..', 'dist', 'main.js'))) throw new Error('this test runs the CLI from dist/: run `pnpm build` first');
    dir = await tempDir('kill-open');
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('blob: the same generations.jsonl, predictions.jsonl, results.json, metrics.jsonl and adapter, byte for byte', async () => {
    const seed = readEnv('BAYES_PEFT_KILL_TEST_SEED');
    const draw = seeded(seed * 1000 + 3);
    const write = async (tag: string) => {
      const file = path.join(dir, `${tag}.yaml`);
      await fs.writeFile(file, spec(path.join(dir, `runs-${tag}`)));
      return file;
    };
    const [whole, killed] = [await write('whole'), await write('killed')];
    const runOf = (tag: string) => path.join(dir, `runs-${tag}`, 'kill-open', 'blob-triviaqa-rc.nocontext-seed3');
    const run = runOf('killed');
    expect((await experiment(whole).exited).code).toBe(0);

    const plan: string[] = [];
    const attempt = async (moment: string, crashAt: string) => {
      const a = experiment(killed, crashAt);
      const end = await a.exited;
      plan.push(`${moment}: ${crashAt}`);
      expect({ moment, signal: end.signal, output: end.signal === 'SIGKILL' ? '' : a.output() }).toEqual({ moment, signal: 'SIGKILL', output: '' });
      await expectNotComplete(run);
    };
    const generated = async () => (await fs.readFile(path.join(run, 'generations.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

    // 1. Inside a step after the first checkpoint: the rerun resumes from step EVERY.
    const step = draw(EVERY + 1, STEPS - 1);
    await attempt(`training step ${step}`, `train-step@${step}`);
    expect((await newestCheckpoint(path.join(run, 'adapter')))?.info.step).toBe(EVERY);

    // 2. After a random batch of the final generation but its last: some questions' answers are written.
    const batch = draw(1, GENERATION_BATCHES - 1);
    await attempt(`final generation batch ${batch} of ${GENERATION_BATCHES}`, `eval-batch@${batch}`);
    expect(await generated()).toBe(batch * GENERATION_BATCH);

    // 3. While the scored results are written.
    const results = ['write:predictions.jsonl@1', 'write:results.json@1', 'write:status.json@2'][draw(0, 2)];
    const again = experiment(killed, results);
    const end = await again.exited;
    plan.push(`results writing: ${results}`);
    expect(end.signal).toBe('SIGKILL');
    expect(again.output()).toMatch(/training finished in an earlier attempt \(checkpoint at step 6\)/);
    await expectNotComplete(run);
    expect(await generated()).toBe(QUESTIONS);

    const last = experiment(killed);
    expect((await last.exited).code).toBe(0);
    process.stdout.write(`kill test (open-ended blob, BAYES_PEFT_KILL_TEST_SEED=${seed}):\n  ${plan.join('\n  ')}\n`);
    expect((await runStatus(run)).state).toBe('done');
    await expectSameRun(run, runOf('whole'), ['generations.jsonl', 'predictions.jsonl', 'results.json', 'metrics.jsonl']);
  }, 240_000);
});
