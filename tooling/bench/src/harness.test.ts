import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { tf } from '@bayes-peft/tensor';
import { JSON_KEYS, benchModel, jsonLine, median } from './harness';
import { parseArgs } from './cli';
import { formatTables } from './table';

describe('bench harness', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-bench-'));
    await makeTinyLlama(path.join(dir, 'tiny'), 'tiny');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('measures the tiny preset for one step: the JSON keys in order, finite positive figures, no leaks', async () => {
    const tensors = tf.memory().numTensors;
    const result = await benchModel({ model: 'tiny', dir: path.join(dir, 'tiny'), steps: 1, warmup: 1, evalBatches: 1, evalWarmup: 0, profileTop: 5 });
    const line = jsonLine(result);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed).slice(0, JSON_KEYS.length)).toEqual([...JSON_KEYS]);
    expect(parsed).toMatchObject({ model: 'tiny', batch: 4, seq: 128 });
    expect(typeof parsed.backend).toBe('string');
    for (const k of [
      'train_ms_per_step',
      'eval_examples_per_s_10_samples',
      'peak_rss_mib',
      'forward_ms',
      'eval_ms_per_sample',
      'eval_sample_vs_forward',
      'train_cpu_ms_per_step',
      'eval_cpu_ms_per_batch',
      'forward_cpu_ms',
    ] as const) {
      expect(Number.isFinite(parsed[k])).toBe(true);
      expect(parsed[k] as number).toBeGreaterThan(0);
    }
    expect(result.leaked_tensors).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors); // backbone, adapters, optimizers all freed
    expect(result.profile_top!.length).toBeGreaterThan(0);
    expect(result.profile_top![0].ms).toBeGreaterThan(0);
    expect(result.profile_eval_top_shapes!.length).toBeGreaterThan(0);
    expect(result.fast_path).toMatch(/^fast path: /);
    expect(formatTables([result])).toMatch(/^model\s+backend\s+eval engine\s+batch\s+seq\s+train ms\/step/);
    // onnxruntime ships in the package: 'auto' evaluates with it here.
    expect(result.eval_engine).toBe('onnxruntime');
    expect(result.eval_engine_details).toMatch(/^onnxruntime-node [\d.]+ \(cpu, \d+ threads?\)$/);
  });

  it('parses the flags', () => {
    expect(parseArgs([])).toMatchObject({ models: ['stories260K', 'random-40M'], steps: 3, json: false, profileTop: 0 });
    expect(parseArgs(['--models', 'random-40M', '--steps=2', '--eval-batches', '1', '--json', '--profile'])).toMatchObject({
      models: ['random-40M'],
      steps: 2,
      evalBatches: 1,
      json: true,
      profileTop: 12,
    });
    expect(() => parseArgs(['--models', 'gpt-5'])).toThrow(/unknown model 'gpt-5'/);
    expect(() => parseArgs(['--steps', '0'])).toThrow(/--steps needs an integer >= 1/);
    expect(parseArgs(['--engine', 'tfjs']).engine).toBe('tfjs');
    expect(parseArgs([]).engine).toBe('auto');
    expect(() => parseArgs(['--engine', 'torch'])).toThrow("--engine must be one of auto, tfjs, onnxruntime, got 'torch'");
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
