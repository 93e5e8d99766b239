import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { lastTrainStep } from '@bayes-peft/runner';
import { CliProcess, killPid, runToEnd } from './cli-process.test-support';
import { findRedisServer, freePort, TestRedis } from './redis-server.test-support';

// `bayes-peft enqueue` and `bayes-peft worker` against a real Redis (Debian's redis-server,
// started here on a free port without persistence) and real runs of the quickstart's tiny model
// in child processes, as on a set of GPU machines sharing a runs folder: enqueuing twice adds
// nothing; two workers, one killed with SIGKILL mid-run (with its run, as when a machine dies),
// end with every run complete once and equal to a local run of the same spec; a run that keeps
// failing is retried, then marked failed in its folder; a worker that loses Redis for a few
// seconds reconnects and finishes its jobs.

const REDIS_SERVER = findRedisServer();
if (!REDIS_SERVER) {
  process.stderr.write('queue.e2e: skipped: no redis-server on PATH (apt-get install redis-server; CI\'s .ci/run installs it)\n');
}
const describeWithRedis = REDIS_SERVER ? describe : describe.skip;

const STEPS = 80;
const EVERY = 20; // evaluations and checkpoints after steps 20, 40, 60

/** The quickstart's shape at a size that runs in seconds: mle and blob, one run per seed. */
function spec(model: string, output: string, seeds: readonly number[], steps = STEPS): string {
  return `
name: q
model:
  path: ${model}
output: ${output}
dataset:
  plugin: toy
  options: { trainSize: 64, testSize: 24 }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }
train: { steps: ${steps}, batchSize: 8, lr: 0.01, maxSeqLen: 48, evalEvery: ${EVERY} }
eval: { batchSize: 16 }
matrix:
  seed: [${seeds.join(', ')}]
  wrapper:
    - mle
    - plugin: blob
      options: { evalSamples: 2, evalSamplesFinal: 3 }
`;
}

/** The spec with mle alone (one run per seed). */
const withoutBlob = (text: string) => text.replace(/ {4}- plugin: blob\n.*\n/, '');

const RUN_IDS = ['mle-toy-seed1', 'blob-toy-seed1', 'mle-toy-seed2', 'blob-toy-seed2'];

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const read = (dir: string, file: string) => fs.readFile(path.join(dir, file), 'utf8');

describeWithRedis('bayes-peft enqueue and worker against a real Redis (end to end)', () => {
  let dir: string;
  let model: string;
  let redis: TestRedis;
  let localRuns: string;
  // Everything a test starts, stopped in afterAll whatever happened.
  const workers: CliProcess[] = [];
  const runPids: number[] = [];
  const queues: Queue[] = [];

  /** A worker process; its run children's pids (from its "took" lines) are recorded for cleanup. */
  function startWorker(queue: string, ...extra: string[]): CliProcess {
    const w = new CliProcess(['worker', '--redis', redis.url, '--queue', queue, ...extra]);
    w.child.stdout!.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/, pid (\d+)\)/g)) runPids.push(Number(m[1]));
    });
    workers.push(w);
    return w;
  }

  function queue(name: string): Queue {
    const q = new Queue(name, { connection: { url: redis.url, maxRetriesPerRequest: 1 } });
    // Redis goes away in the last test: this connection's errors are expected then.
    q.on('error', () => undefined);
    queues.push(q);
    return q;
  }

  async function writeSpec(name: string, output: string, seeds: readonly number[]): Promise<string> {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(file, spec(model, path.join(dir, output), seeds));
    return file;
  }

  /** Every run of `output` equals the local run of the same id: metrics, predictions and the training log. */
  async function expectSameAsLocal(output: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const [queued, local] = [path.join(dir, output, 'q', id), path.join(localRuns, 'q', id)];
      expect({ id, metrics: JSON.parse(await read(queued, 'results.json')).metrics }).toEqual({ id, metrics: JSON.parse(await read(local, 'results.json')).metrics });
      expect(await read(queued, 'predictions.jsonl')).toBe(await read(local, 'predictions.jsonl'));
      expect(await read(queued, 'metrics.jsonl')).toBe(await read(local, 'metrics.jsonl'));
    }
  }

  beforeAll(async () => {
    if (!existsSync(path.join(__dirname, '..', '..', 'cli', 'dist', 'main.js'))) throw new Error('this test runs the CLI from dist/: run `pnpm build` first');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-queue-'));
    model = path.join(dir, 'tiny-llama');
    await makeTinyLlama(model, 'tiny');
    await fs.mkdir(path.join(dir, 'redis'));
    redis = new TestRedis(REDIS_SERVER!, await freePort(), path.join(dir, 'redis'));
    await redis.start();
    // The reference: the same four runs, run locally one after the other.
    const local = await writeSpec('local', 'runs-local', [1, 2]);
    localRuns = path.join(dir, 'runs-local');
    const res = await runToEnd(['experiment', local, '--no-progress'], 150_000);
    if (res.code !== 0) throw new Error(`the local reference run failed:\n${res.output}`);
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) w.signal('SIGKILL');
    for (const pid of runPids) killPid(pid);
    await Promise.all(workers.map((w) => w.exited));
    for (const q of queues) await q.close().catch(() => undefined);
    await redis?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('enqueuing a spec twice adds no job; another spec with the same run ids gets jobs of its own', async () => {
    const specFile = await writeSpec('twice', 'runs-twice', [1, 2]);
    const first = await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'twice'], 30_000);
    expect(first.output).toContain("4 runs: added 4 jobs, 0 already queued -> queue 'twice'");
    expect(first.code).toBe(0);
    const again = await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'twice', '--json'], 30_000);
    expect(again.code).toBe(0);
    const got = JSON.parse(again.output.trim().split('\n').pop()!);
    expect(got.added).toEqual([]);
    expect(got.existing.map((e: { state: string }) => e.state)).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
    // Job ids: the spec's name and path hash, then the run id, in plan order.
    expect(got.runs.map((r: { id: string }) => r.id)).toEqual(['mle-toy-seed1', 'blob-toy-seed1', 'mle-toy-seed2', 'blob-toy-seed2']);
    for (const r of got.runs) expect(r.jobId).toMatch(new RegExp(`^twice-[0-9a-f]{8}/${r.id}$`));

    // Same run ids from another spec file: four more jobs, none taking the others' place.
    const other = await writeSpec('twice-other', 'runs-twice-other', [1, 2]);
    const third = await runToEnd(['enqueue', other, '--redis', redis.url, '--queue', 'twice'], 30_000);
    expect(third.output).toContain('4 runs: added 4 jobs, 0 already queued');
    const q = queue('twice');
    expect(await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 8, active: 0, completed: 0, failed: 0, delayed: 0 });
    const job = await q.getJob(got.runs[1].jobId);
    expect(job?.data).toEqual({ spec: specFile, run: 'blob-toy-seed1', cwd: process.cwd(), dir: path.join(dir, 'runs-twice', 'q', 'blob-toy-seed1') });
    expect(job?.opts.attempts).toBe(3);
  }, 60_000);

  it('two workers, one killed with SIGKILL mid-run: the run resumes on the other from its checkpoint, every run completes once, equal to a local run', async () => {
    const specFile = await writeSpec('two', 'runs-two', [1, 2]);
    const enq = await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'two'], 30_000);
    expect(enq.output).toContain('added 4 jobs');
    // A short job lock, so the dead worker's job is back in the queue within seconds.
    const fast = ['--lock-duration', '3', '--stalled-interval', '1', '--recheck', '1'];
    const a = startWorker('two', ...fast);
    const took = await a.waitFor(/took (\S+) \(attempt 1 of 3, pid (\d+)\) -> (\S+)\/worker\.log/, 30_000);
    const b = startWorker('two', ...fast);
    const [, killedJob, pid, runDir] = took;

    // Kill once metrics.jsonl has a step past the first checkpoint, before the run ends: the
    // worker first (so it cannot report anything), then its run, as a dying machine would.
    const step = await until('a training step past the first checkpoint', 60_000, async () => {
      const s = await lastTrainStep(runDir);
      return s > EVERY ? s : undefined;
    });
    a.signal('SIGKILL');
    killPid(Number(pid));
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(step).toBeLessThan(STEPS);
    expect(existsSync(path.join(runDir, 'results.json'))).toBe(false);

    const q = queue('two');
    await until('four completed jobs', 180_000, async () => (await q.getJobCounts('completed')).completed === 4);
    expect(await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 4, failed: 0, delayed: 0 });
    await expectSameAsLocal('runs-two', RUN_IDS);

    // Once each: one "finished" line per job over both workers, and the killed run's log shows
    // the second attempt (on b) resuming from a checkpoint of the first.
    const lines = (a.output + b.output).split('\n');
    for (const id of RUN_IDS) expect({ id, finished: lines.filter((l) => l.includes(' finished ') && l.includes(`/${id} in `)).length }).toEqual({ id, finished: 1 });
    expect(a.output).not.toContain(' finished ');
    const log = await read(runDir, 'worker.log');
    const headers = log.split('\n').filter((l) => l.startsWith('=== '));
    expect(headers).toHaveLength(2);
    expect(headers[1]).toContain(`job ${killedJob}, attempt 1 of 3, restarted after 1 lost worker`);
    expect(log).toMatch(new RegExp(`resuming from the checkpoint at step (${EVERY}|${2 * EVERY}|${3 * EVERY}) of ${STEPS}`));
    const job = await q.getJob(killedJob);
    expect(job?.returnvalue).toMatchObject({ run: path.basename(runDir), alreadyComplete: false });
    expect(job?.stalledCounter).toBe(1);

    // SIGTERM with nothing running: the worker stops cleanly.
    b.signal('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect(b.output).toContain('stopped');
  }, 240_000);

  it('SIGTERM hands a running job back: the run checkpoints, the job waits for the next worker, which resumes it', async () => {
    const specFile = path.join(dir, 'handback.yaml');
    await fs.writeFile(specFile, withoutBlob(spec(model, path.join(dir, 'runs-handback'), [2])));
    await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'handback'], 30_000);
    const first = startWorker('handback');
    const [, jobId, , runDir] = await first.waitFor(/took (\S+) \(attempt 1 of 3, pid (\d+)\) -> (\S+)\/worker\.log/, 30_000);
    await until('a training step past the first checkpoint', 60_000, async () => (await lastTrainStep(runDir)) > EVERY);
    first.signal('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output).toContain(`handed back ${jobId} (interrupted at a checkpoint; the next worker resumes it)`);
    const q = queue('handback');
    const job = await q.getJob(jobId);
    // Back in the queue without using an attempt; the folder says interrupted, with a checkpoint.
    expect({ state: await job?.getState(), attemptsMade: job?.attemptsMade }).toEqual({ state: 'waiting', attemptsMade: 0 });
    expect(JSON.parse(await read(runDir, 'status.json')).state).toBe('interrupted');
    const checkpoint = JSON.parse(await read(runDir, path.join('adapter', 'checkpoint.json'))).step;

    const second = startWorker('handback');
    await until('the completed job', 90_000, async () => (await q.getJobCounts('completed')).completed === 1);
    expect(await read(runDir, 'worker.log')).toContain(`resuming from the checkpoint at step ${checkpoint} of ${STEPS}`);
    await expectSameAsLocal('runs-handback', ['mle-toy-seed2']);
    second.signal('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('a worker killed without its run: the run goes on under its run.lock, the job waits as running elsewhere, then completes once', async () => {
    // One longer run (no local twin): it must outlast the few seconds its job takes to stall.
    const specFile = path.join(dir, 'orphan.yaml');
    await fs.writeFile(specFile, withoutBlob(spec(model, path.join(dir, 'runs-orphan'), [1], 400)));
    await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'orphan'], 30_000);
    const fast = ['--lock-duration', '3', '--stalled-interval', '1', '--recheck', '1'];
    const a = startWorker('orphan', ...fast);
    const [, jobId, , runDir] = await a.waitFor(/took (\S+) \(attempt 1 of 3, pid (\d+)\) -> (\S+)\/worker\.log/, 30_000);
    await until('the run training', 60_000, async () => (await lastTrainStep(runDir)) > 0);
    a.signal('SIGKILL');
    await a.exited;
    const b = startWorker('orphan', ...fast);
    const q = queue('orphan');
    await until('the completed job', 90_000, async () => (await q.getJobCounts('completed')).completed === 1);
    // b met the orphaned run while it trained, stood back, and closed the job once it was complete.
    expect(b.output).toContain(`${jobId}: running elsewhere; looking again in 1 s`);
    // (by the worker's own check, or by its run's, when the orphan finished as that one started)
    expect(b.output).toMatch(new RegExp(`${jobId}.*complete already`));
    expect((await q.getJob(jobId))?.returnvalue).toMatchObject({ alreadyComplete: true });
    // Trained once, by the orphan: every step logged once, nothing resumed.
    const steps = (await read(runDir, 'metrics.jsonl')).split('\n').filter((l) => l.startsWith('{"phase":"train"')).map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(await read(runDir, 'worker.log')).not.toContain('resuming from the checkpoint');
    expect(JSON.parse(await read(runDir, 'status.json')).state).toBe('complete');
    b.signal('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('a run that keeps failing is retried up to its attempts, then marked failed in its status.json; --retry-failed sends it back', async () => {
    const file = path.join(dir, 'broken.yaml');
    await fs.writeFile(file, withoutBlob(spec(path.join(dir, 'no-such-model'), path.join(dir, 'runs-broken'), [1])));
    const enq = await runToEnd(['enqueue', file, '--redis', redis.url, '--queue', 'broken', '--attempts', '2', '--backoff', '0.2'], 30_000);
    expect(enq.output).toContain('1 run: added 1 job');
    const w = startWorker('broken');
    await w.waitFor(/no attempts left/, 60_000);
    const q = queue('broken');
    const [job] = await q.getJobs(['failed']);
    expect({ id: job?.id, attemptsMade: job?.attemptsMade }).toEqual({ id: expect.stringMatching(/^broken-[0-9a-f]{8}\/mle-toy-seed1$/), attemptsMade: 2 });
    expect(job?.failedReason).toMatch(/^bayes-peft exited with code 1: error: .*no-such-model: model folder not found/);
    expect(w.output).toMatch(/failed \S+ \(attempt 1 of 2; it will be retried\)/);
    expect(w.output).toMatch(/failed \S+ \(attempt 2 of 2; no attempts left: marked failed\)/);
    const status = JSON.parse(await read(path.join(dir, 'runs-broken', 'q', 'mle-toy-seed1'), 'status.json'));
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/model folder not found/);
    expect(status.queue).toMatchObject({ job: job?.id, queue: 'broken', attempts: 2 });
    const report = await runToEnd(['status', file, '--json'], 30_000);
    expect(JSON.parse(report.output.trim().split('\n').pop()!)).toMatchObject({ id: 'mle-toy-seed1', state: 'failed', error: expect.stringMatching(/model folder not found/) });

    w.signal('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const retry = await runToEnd(['enqueue', file, '--redis', redis.url, '--queue', 'broken', '--retry-failed'], 30_000);
    expect(retry.output).toContain('1 run: added 0 jobs, 1 already queued (1 failed); 1 failed job sent back');
    expect(await (await q.getJob(job!.id!))?.getState()).toBe('waiting');
  }, 90_000);

  it('a worker that loses Redis for a few seconds reconnects and finishes its jobs', async () => {
    const specFile = await writeSpec('outage', 'runs-outage', [1]);
    const enq = await runToEnd(['enqueue', specFile, '--redis', redis.url, '--queue', 'outage'], 30_000);
    expect(enq.output).toContain('added 2 jobs');
    const w = startWorker('outage');
    await w.waitFor(/took \S+/, 30_000);
    // Redis goes away (saving its data, as a restarted production Redis would have it) for 3 s.
    await redis.stop({ save: true });
    await w.waitFor(/redis: connection lost/, 10_000);
    await new Promise((r) => setTimeout(r, 3_000));
    await redis.start();
    await w.waitFor(/redis: reconnected/, 30_000);

    const q = queue('outage');
    await until('two completed jobs', 90_000, async () => (await q.getJobCounts('completed')).completed === 2);
    expect(await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 2, failed: 0, delayed: 0 });
    await expectSameAsLocal('runs-outage', ['mle-toy-seed1', 'blob-toy-seed1']);
    expect(w.output.match(/ finished /g)).toHaveLength(2);
    // The first job was running while Redis was away: it finished after the loss was noticed.
    expect(w.output.indexOf('redis: connection lost')).toBeLessThan(w.output.indexOf(' finished '));
    w.signal('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
