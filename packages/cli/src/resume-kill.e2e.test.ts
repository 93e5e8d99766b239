import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir, tinyModel } from './cli.test-support';

// A run killed with SIGKILL (no chance to write anything) and started again with the same
// command resumes from its last checkpoint and ends exactly where an uninterrupted run ends:
// the same metrics.jsonl, results.json metrics and predictions.jsonl, byte for byte. BLoB draws
// fresh weight noise at every evaluation, so this holds only if the checkpoint carries the
// position of every random stream it draws from (issue 10: it resumed to other numbers).

const BIN = path.resolve(__dirname, '..', 'bin', 'bayes-peft.js');
const STEPS = 60;
const EVERY = 20; // evaluations and checkpoints after steps 20 and 40

function spec(model: string, output: string, wrapper: string): string {
  return `
name: resume
seed: 5
output: ${output}
model:
  path: ${model}
dataset:
  plugin: toy
  options: { trainSize: 64, testSize: 24 }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }
train: { steps: ${STEPS}, batchSize: 8, lr: 0.01, maxSeqLen: 48, evalEvery: ${EVERY} }
eval: { batchSize: 16 }
wrapper: ${wrapper}
`;
}

interface Child {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
  kill(): boolean;
  readonly running: () => boolean;
}

function experiment(specFile: string): Child {
  const child = spawn(process.execPath, [BIN, 'experiment', specFile, '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { exited, output: () => output, kill: () => child.kill('SIGKILL'), running: () => child.exitCode === null && child.signalCode === null };
}

/** The last training step metrics.jsonl records (0 before the first). */
async function lastTrainStep(metricsFile: string): Promise<number> {
  const text = await fs.readFile(metricsFile, 'utf8').catch(() => '');
  let last = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"phase":"train"')) continue;
    try {
      last = Math.max(last, (JSON.parse(line) as { step: number }).step);
    } catch {
      // the line being written
    }
  }
  return last;
}

const read = (run: string, file: string) => fs.readFile(path.join(run, file), 'utf8');

describe('bayes-peft experiment killed with SIGKILL and run again (end to end)', () => {
  let dir: string;
  let model: string;

  beforeAll(async () => {
    if (!existsSync(path.join(__dirname, '..', 'dist', 'main.js'))) throw new Error('this test runs the CLI from dist/: run `npx tsc -b` in packages/cli first');
    dir = await tempDir('resume-kill');
    model = await tinyModel(dir);
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function killAndResume(name: string, wrapper: string): Promise<void> {
    const write = async (tag: string) => {
      const file = path.join(dir, `${name}-${tag}.yaml`);
      await fs.writeFile(file, spec(model, path.join(dir, `runs-${name}-${tag}`), wrapper));
      return file;
    };
    const whole = await write('whole');
    const killed = await write('killed');
    const runOf = (tag: string) => path.join(dir, `runs-${name}-${tag}`, 'resume', `${name}-toy-seed5`);

    const reference = experiment(whole);
    expect((await reference.exited).code).toBe(0);

    // Kill once metrics.jsonl has a step past the first checkpoint (written after step EVERY's
    // evaluation, before step EVERY + 1 is logged) and before the run ends.
    const first = experiment(killed);
    const metrics = path.join(runOf('killed'), 'metrics.jsonl');
    let killedAt = 0;
    while (first.running()) {
      const step = await lastTrainStep(metrics);
      if (step > EVERY) {
        killedAt = step;
        first.kill();
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const end = await first.exited;
    expect({ killedAt: killedAt > EVERY && killedAt < STEPS, signal: end.signal }).toEqual({ killedAt: true, signal: 'SIGKILL' });
    expect(existsSync(path.join(runOf('killed'), 'results.json'))).toBe(false);
    const checkpoint = JSON.parse(await read(runOf('killed'), path.join('adapter', 'checkpoint.json')));
    expect([EVERY, 2 * EVERY]).toContain(checkpoint.step);

    // The same command again: resumes from the checkpoint, ends as the uninterrupted run.
    const again = experiment(killed);
    expect((await again.exited).code).toBe(0);
    expect(again.output()).toContain(`resuming from the checkpoint at step ${checkpoint.step} of ${STEPS}`);
    const [a, b] = [runOf('whole'), runOf('killed')];
    expect(JSON.parse(await read(b, 'results.json')).metrics).toEqual(JSON.parse(await read(a, 'results.json')).metrics);
    expect(await read(b, 'predictions.jsonl')).toBe(await read(a, 'predictions.jsonl'));
    expect(await read(b, 'metrics.jsonl')).toBe(await read(a, 'metrics.jsonl'));
  }

  it('blob resumes bit for bit: same metrics, predictions and metrics.jsonl as the uninterrupted run', async () => {
    await killAndResume('blob', '{ plugin: blob, options: { evalSamples: 2, evalSamplesFinal: 3 } }');
  }, 90_000);

  it('mle resumes bit for bit as well', async () => {
    await killAndResume('mle', 'mle');
  }, 90_000);
});
