import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CRASH_POINTS, readEnv } from '@bayes-peft/env';
import { lastTrainStep, newestCheckpoint, runStatus } from '@bayes-peft/runner';
import { tempDir, tinyModel } from './cli.test-support';
import { experiment, expectNotComplete, expectSameRun, seeded, type Attempt } from './kill.test-support';

// Issue 14: a run killed with SIGKILL (no handler runs, nothing is flushed) at five random
// moments, and started again with the same command after each, ends exactly as a run that never
// stopped: the same results.json, predictions.jsonl, metrics.jsonl and adapter files, byte for
// byte, for mle and blob (blob draws weight noise at every evaluation, so this holds only if a
// checkpoint carries every random stream's position). After every kill the folder must not look
// complete to anything that reads run folders (experiment's skip, `bayes-peft status`, collect,
// the report), and a checkpoint written before the kill must still be there to resume from.
//
// The moments: one SIGKILL from outside at a random time during training, then four at crash
// points (BAYES_PEFT_CRASH_AT, packages/env/src/crash-point.ts: the process kills itself with
// SIGKILL the n-th time it gets there): inside a step, during a checkpoint write (at one of its
// four stages), during an evaluation batch (intermediate or final) and during the results'
// writes. Which stage, step, checkpoint and batch is drawn from BAYES_PEFT_KILL_TEST_SEED.

const STEPS = 40;
const EVERY = 8; // evaluations and checkpoints after steps 8, 16, 24 and 32; a checkpoint after 40
const TEST_SIZE = 24;
const EVAL_BATCH = 8;
const EVAL_BATCHES = Math.ceil(TEST_SIZE / EVAL_BATCH);

function spec(model: string, output: string, wrapper: string): string {
  return `
name: kill
seed: 5
output: ${output}
model:
  path: ${model}
dataset:
  plugin: toy
  options: { trainSize: 64, testSize: ${TEST_SIZE} }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }
train: { steps: ${STEPS}, batchSize: 8, lr: 0.01, maxSeqLen: 48, evalEvery: ${EVERY} }
eval: { batchSize: ${EVAL_BATCH} }
wrapper: ${wrapper}
`;
}

/** The checkpoint steps a process starting from `from` writes: every EVERY steps, and the last. */
const checkpointsAfter = (from: number) => [...new Set([...Array.from({ length: Math.floor(STEPS / EVERY) }, (_, i) => (i + 1) * EVERY), STEPS])].filter((s) => s > from);
/** The evaluation batches a process starting from `from` runs: each intermediate evaluation's, then the final one's. */
const evalBatchesAfter = (from: number) => checkpointsAfter(from).filter((s) => s < STEPS).length * EVAL_BATCHES + EVAL_BATCHES;

const CHECKPOINT_STAGES = ['checkpoint:adapter', 'checkpoint:state', 'checkpoint:written', 'checkpoint:swap'] as const;
// The results' writes, in order: predictions.jsonl, results.json, then status.json saying complete
// (its second write of the attempt: the first marks the folder running).
const RESULTS_WRITES = ['write:predictions.jsonl@1', 'write:results.json@1', 'write:status.json@2'] as const;

describe('bayes-peft experiment killed with SIGKILL at five random moments, run again after each (end to end)', () => {
  const seed = readEnv('BAYES_PEFT_KILL_TEST_SEED');
  let dir: string;
  let model: string;

  beforeAll(async () => {
    if (!existsSync(path.join(__dirname, '..', 'dist', 'main.js'))) throw new Error('this test runs the CLI from dist/: run `pnpm build` first');
    dir = await tempDir('kill-anywhere');
    model = await tinyModel(dir);
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the crash points it uses are the declared ones', () => {
    for (const point of [...CHECKPOINT_STAGES, 'train-step', 'eval-batch']) expect(Object.keys(CRASH_POINTS)).toContain(point);
  });

  async function killFiveTimes(name: string, wrapper: string, seedOffset: number): Promise<void> {
    const draw = seeded(seed * 1000 + seedOffset);
    const write = async (tag: string) => {
      const file = path.join(dir, `${name}-${tag}.yaml`);
      await fs.writeFile(file, spec(model, path.join(dir, `runs-${name}-${tag}`), wrapper));
      return file;
    };
    const whole = await write('whole');
    const killed = await write('killed');
    const runOf = (tag: string) => path.join(dir, `runs-${name}-${tag}`, 'kill', `${name}-toy-seed5`);
    const run = runOf('killed');

    const reference = experiment(whole);
    expect((await reference.exited).code).toBe(0);

    /** Where the killed folder stands: the step a restart resumes from (0: none). */
    const resumableStep = async () => (await newestCheckpoint(path.join(run, 'adapter')))?.info.step ?? 0;
    const plan: string[] = [];
    let checkpointed = 0; // the newest checkpoint step any attempt is known to have finished

    /** One attempt that must die by SIGKILL, then the checks a killed folder must pass. */
    const attempt = async (moment: string, start: (a: Attempt) => Promise<void>, crashAt?: string) => {
      const from = await resumableStep();
      const a = experiment(killed, crashAt);
      await start(a);
      const end = await a.exited;
      plan.push(`${moment} (from step ${from}): ${crashAt ?? 'external'}`);
      expect({ moment, signal: end.signal, output: end.signal === 'SIGKILL' ? '' : a.output() }).toEqual({ moment, signal: 'SIGKILL', output: '' });
      if (from > 0) expect(a.output()).toMatch(new RegExp(`resuming from the checkpoint at step ${from} of ${STEPS}|training finished in an earlier attempt \\(checkpoint at step ${from}\\)`));
      // Not complete, to every reader of run folders, and still resumable from the newest checkpoint.
      await expectNotComplete(run);
      const now = await resumableStep();
      expect(now).toBeGreaterThanOrEqual(checkpointed);
      checkpointed = now;
    };

    // 1. From outside, at a random time during training: once the log passes a random step, after a random delay.
    const pastStep = draw(EVERY + 1, STEPS - 2 * EVERY);
    const delayMs = draw(0, 120);
    await attempt(`external kill after step ${pastStep} + ${delayMs} ms`, async (a) => {
      while (a.running() && (await lastTrainStep(run)) < pastStep) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, delayMs));
      a.kill();
    });

    // 2. During a checkpoint write: a random stage of one of the checkpoints still to come (not the last, so training is left for 3).
    const left = checkpointsAfter(await resumableStep()).filter((s) => s < STEPS);
    const stage = CHECKPOINT_STAGES[draw(0, CHECKPOINT_STAGES.length - 1)];
    const nth = draw(1, left.length);
    await attempt(`checkpoint write at step ${left[nth - 1]}`, async () => undefined, `${stage}@${nth}`);

    // 3. Inside a step: after a random step still to come has updated the weights, before anything of it is saved.
    const step = draw(1, STEPS - (await resumableStep()));
    await attempt(`training step ${(await resumableStep()) + step}`, async () => undefined, `train-step@${step}`);

    // 4. During an evaluation: after a random batch of the intermediate and final evaluations still to come.
    const batch = draw(1, evalBatchesAfter(await resumableStep()));
    await attempt(`evaluation batch ${batch}`, async () => undefined, `eval-batch@${batch}`);

    // 5. During the results' writes: a written temporary file not yet renamed into place.
    const results = RESULTS_WRITES[draw(0, RESULTS_WRITES.length - 1)];
    await attempt('results writing', async () => undefined, results);

    // The same command once more finishes the run as the uninterrupted run finished it.
    const last = experiment(killed);
    expect({ end: await last.exited, output: last.output() }).toEqual({ end: { code: 0, signal: null }, output: expect.stringContaining('acc ') });
    process.stdout.write(`kill test (${name}, BAYES_PEFT_KILL_TEST_SEED=${seed}):\n  ${plan.join('\n  ')}\n`);
    expect((await runStatus(run)).state).toBe('done');
    await expectSameRun(run, runOf('whole'), ['results.json', 'predictions.jsonl', 'metrics.jsonl']);
  }

  it('blob: the same results.json, predictions.jsonl, metrics.jsonl and adapter, byte for byte', async () => {
    await killFiveTimes('blob', '{ plugin: blob, options: { evalSamples: 2, evalSamplesFinal: 3 } }', 1);
  }, 240_000);

  it('mle: the same results.json, predictions.jsonl, metrics.jsonl and adapter, byte for byte', async () => {
    await killFiveTimes('mle', 'mle', 2);
  }, 240_000);
});
