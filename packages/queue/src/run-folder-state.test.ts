import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { failureLine, markRunFailed, readLogFrom, runComplete } from './run-folder-state';

describe('the run folder as the worker reads and marks it', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-queue-state-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const status = async () => JSON.parse(await fs.readFile(path.join(dir, 'status.json'), 'utf8'));

  it('a run is complete only with status complete and results.json', async () => {
    expect(await runComplete(dir)).toBe(false);
    await fs.writeFile(path.join(dir, 'status.json'), '{"state":"complete"}');
    expect(await runComplete(dir)).toBe(false);
    await fs.writeFile(path.join(dir, 'results.json'), '{}');
    expect(await runComplete(dir)).toBe(true);
    await fs.writeFile(path.join(dir, 'status.json'), '{"state":"running"}');
    expect(await runComplete(dir)).toBe(false);
  });

  it("markRunFailed keeps the run's own error and adds the queue's record", async () => {
    await fs.writeFile(path.join(dir, 'status.json'), JSON.stringify({ state: 'failed', updated: 't0', error: 'NaN loss at step 12' }));
    await markRunFailed(dir, 'bayes-peft exited with code 1: error: NaN loss at step 12', { job: 'j', attempts: 3 });
    expect(await status()).toEqual({ state: 'failed', updated: 't0', error: 'NaN loss at step 12', queue: { job: 'j', attempts: 3 } });
  });

  it('markRunFailed marks a run that died before it could (killed, interrupted, or no folder record yet)', async () => {
    await markRunFailed(dir, 'bayes-peft exited with signal SIGKILL: train 12/80 step', { job: 'j', attempts: 2 });
    expect(await status()).toMatchObject({ state: 'failed', error: 'bayes-peft exited with signal SIGKILL: train 12/80 step', queue: { job: 'j', attempts: 2 } });
    await fs.writeFile(path.join(dir, 'status.json'), JSON.stringify({ state: 'interrupted', error: 'interrupted after step 40' }));
    await markRunFailed(dir, 'out of memory', { job: 'j', attempts: 3 });
    expect(await status()).toMatchObject({ state: 'failed', error: 'out of memory' });
    expect((await fs.readdir(dir)).sort()).toEqual(['status.json']);
  });

  it("readLogFrom gives one attempt's output; failureLine its error line, else its last line", async () => {
    const log = path.join(dir, 'worker.log');
    await fs.writeFile(log, 'attempt 1\nerror: first\n');
    const offset = (await fs.stat(log)).size;
    await fs.appendFile(log, 'backend: wasm\nerror: Error: model folder not found\n    at load (x.js:1)\n');
    const second = await readLogFrom(log, offset);
    expect(second.startsWith('backend: wasm')).toBe(true);
    expect(failureLine(second)).toBe('error: Error: model folder not found');
    expect(failureLine('train 3/80 step\n')).toBe('train 3/80 step');
    expect(failureLine('')).toBe('(no output)');
    expect(await readLogFrom(path.join(dir, 'none.log'), 0)).toBe('');
  });
});
