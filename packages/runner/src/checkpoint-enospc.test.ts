import * as fsModule from 'node:fs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import type { Logger } from '@bayes-peft/core';
import { readCheckpoint } from './checkpoint';
import { runExperiment, type ExperimentOptions } from './experiment';

// Disk full during a checkpoint: a write into adapter.tmp fails with ENOSPC at the second
// checkpoint. The first checkpoint (adapter/) must stay whole and resumable, the run is marked
// failed with a message that says so, and the same command afterwards resumes from it.
const plugin = (dir: string) => path.resolve(__dirname, '..', '..', '..', 'plugins', dir, 'src', 'index.ts');
const builtinPlugins: ExperimentOptions['builtinPlugins'] = {
  backbone: { 'causal-lm': plugin('backbone-causal-lm') },
  dataset: { toy: plugin('dataset-toy') },
  wrapper: { mle: plugin('wrapper-mle') },
  judge: { 'string-match': plugin('scorer-string-match') },
};

function memLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), debug: () => {} };
}

describe('disk full (ENOSPC) during a checkpoint', () => {
  let dir: string;
  let specFile: string;
  let runFolder: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-enospc-'));
    const model = path.join(dir, 'tiny-llama');
    await makeTinyLlama(model, 'tiny');
    specFile = path.join(dir, 'spec.yaml');
    await fs.writeFile(
      specFile,
      [
        'name: enospc',
        'seed: 3',
        `output: ${path.join(dir, 'runs')}`,
        'model:',
        `  path: ${model}`,
        'dataset:',
        '  plugin: toy',
        '  options: { trainSize: 32, testSize: 8 }',
        'lora: { r: 2, alpha: 4, targets: [q_proj, v_proj] }',
        'train: { steps: 4, batchSize: 8, lr: 0.01, maxSeqLen: 48, checkpointEvery: 2 }',
        'eval: { batchSize: 8 }',
        'wrapper: mle',
        '',
      ].join('\n'),
    );
    runFolder = path.join(dir, 'runs', 'enospc', 'mle-toy-seed3');
  }, 60_000);
  afterAll(async () => {
    jest.restoreAllMocks();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps the previous checkpoint, marks the run failed with a clear message, and resumes from it', async () => {
    const adapterDir = path.join(runFolder, 'adapter');
    const realWriteFile = fs.writeFile.bind(fs);
    let injected = 0;
    // Every checkpoint file goes through fs.promises.writeFile (writeFileAtomic, checkpoint.json):
    // the first write into adapter.tmp once adapter/ exists (the second checkpoint) finds the disk full.
    const spy = jest.spyOn(fsModule.promises, 'writeFile').mockImplementation(async (file, data, options) => {
      if (String(file).includes(`${path.sep}adapter.tmp${path.sep}`) && fsModule.existsSync(path.join(adapterDir, 'checkpoint.json'))) {
        injected++;
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      }
      return realWriteFile(file as string, data as string, options as undefined);
    });
    let err: Error & { code?: string };
    try {
      err = await runExperiment(specFile, { builtinPlugins, log: memLog(), progress: false }).then(
        () => {
          throw new Error('the run should have failed');
        },
        (e) => e,
      );
    } finally {
      spy.mockRestore();
    }
    expect(injected).toBe(1);
    expect(err.code).toBe('ENOSPC');
    expect(err.message).toMatch(/^checkpoint at step 4 not written: no space left on the device \(ENOSPC: no space left on device, write/);
    expect(err.message).toContain(`the previous checkpoint in ${adapterDir} is kept`);

    // The run is marked failed, with that message; nothing looks complete.
    const status = JSON.parse(await fs.readFile(path.join(runFolder, 'status.json'), 'utf8'));
    expect(status.state).toBe('failed');
    expect(status.error).toBe(err.message);
    const names = await fs.readdir(runFolder);
    expect(names).not.toContain('results.json');
    expect(names).not.toContain('adapter.tmp'); // the half-written checkpoint was dropped
    expect(names).not.toContain('adapter.old');

    // adapter/ is the whole step-2 checkpoint.
    const checkpoint = await readCheckpoint(adapterDir);
    expect(checkpoint?.step).toBe(2);
    expect(checkpoint?.trainingState).not.toBeNull();
    expect((await fs.readdir(adapterDir)).sort()).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors', 'checkpoint.json', 'training_state.safetensors']));

    // Loadable: the same command (space freed) resumes from it and finishes.
    const log = memLog();
    const [summary] = await runExperiment(specFile, { builtinPlugins, log, progress: false });
    expect(log.lines.join('\n')).toContain('resuming from the checkpoint at step 2 of 4');
    expect(summary.skipped).toBe(false);
    expect(JSON.parse(await fs.readFile(path.join(runFolder, 'status.json'), 'utf8')).state).toBe('complete');
    expect((await readCheckpoint(adapterDir))?.step).toBe(4);
  }, 120_000);
});
