import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { tf } from '@bayes-peft/tensor';
import { parseArgs } from './cli';
import { benchGeneration, generationLine, GEN_SHAPE, type GenEngineResult } from './generation';
import { defaultGenBatches } from './models';
import { formatGenerationTable } from './table';

const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);

describe('bench generation line', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-bench-gen-'));
    await makeTinyLlama(path.join(dir, 'tiny'), 'tiny');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('times BLoB generation on the engine a run picks, then on TensorFlow.js; finite figures, no leaked tensors', async () => {
    const tensors = tf.memory().numTensors;
    const shape = { questions: 2, samples: 3, promptTokens: 8, newTokens: 4 };
    const results = await benchGeneration({ model: 'tiny', dir: path.join(dir, 'tiny'), repeats: 1, warmup: 0, shape });
    expect(results.map((r) => r.engine)).toEqual(ortMissing ? ['tfjs'] : ['onnxruntime', 'tfjs']);
    for (const r of results) {
      // Every sequence runs to 4 tokens unless it samples EOS.
      expect(r.gen_tokens).toBeGreaterThan(0);
      expect(r.gen_tokens).toBeLessThanOrEqual(2 * 3 * 4);
      for (const k of ['gen_tokens_per_s_10_samples', 'gen_s_per_question', 'gen_s', 'gen_prefill_s', 'gen_cpu_s'] as const) {
        expect(Number.isFinite(r[k]) && r[k] > 0).toBe(true);
      }
      // gen_s is rounded to the millisecond: the ratios agree to that.
      expect(Math.abs((r.gen_tokens_per_s_10_samples * r.gen_s) / r.gen_tokens - 1)).toBeLessThan(0.02);
      expect(Math.abs(r.gen_s_per_question - r.gen_s / 2)).toBeLessThanOrEqual(0.001);
    }
    expect(tf.memory().numTensors).toBe(tensors);
  }, 300_000);

  it('the line: the first engine under the fixed names, every engine with its ratio to PyTorch', () => {
    const figure = (engine: 'onnxruntime' | 'tfjs', tokensPerS: number): GenEngineResult => ({
      engine,
      engine_details: engine,
      gen_tokens_per_s_10_samples: tokensPerS,
      gen_s_per_question: 1280 / tokensPerS / 4,
      gen_s: 1280 / tokensPerS,
      gen_prefill_s: 1,
      gen_ms_per_decode_step: 50,
      gen_cpu_s: 5,
      gen_tokens: 1280,
      gen_runs_s: [1280 / tokensPerS],
    });
    const line = generationLine('random-40M', [figure('onnxruntime', 350), figure('tfjs', 100)], {}, { tokensPerS: 175, note: 'test' });
    expect(line).toMatchObject({
      model: 'random-40M',
      line: 'generation',
      engine: 'onnxruntime',
      gen_tokens_per_s_10_samples: 350,
      gen_s_per_question: 0.9142857142857143,
      questions: 4,
      samples: 10,
      prompt_tokens: 64,
      new_tokens: 32,
      temperature: 0.7,
      top_p: 0.9,
      lora_targets: ['q_proj', 'v_proj'],
      pytorch_tokens_per_s: 175,
      gen_vs_pytorch: 2,
    });
    expect(line.engines.map((e) => e.vs_pytorch)).toEqual([2, 0.57]);
    expect(generationLine('tiny', [figure('tfjs', 10)], {}, undefined)).not.toHaveProperty('gen_vs_pytorch');
    expect(formatGenerationTable([line])).toMatch(/^model\s+engine\s+gen tokens\/s \(10 samples\)\s+s\/question/);
    expect(formatGenerationTable([line])).toContain('2.00x');
    expect(GEN_SHAPE).toMatchObject({ questions: 4, samples: 10, promptTokens: 64, newTokens: 32 });
  });

  it('parses the generation flags', () => {
    expect(parseArgs([])).toMatchObject({ genBatches: null, genWarmup: 1, genEngines: ['auto', 'tfjs'], pytorch: false });
    expect(parseArgs(['--gen-batches', '0', '--gen-warmup=2', '--gen-engines', 'onnxruntime', '--pytorch'])).toMatchObject({
      genBatches: 0,
      genWarmup: 2,
      genEngines: ['onnxruntime'],
      pytorch: true,
    });
    expect(() => parseArgs(['--gen-engines', 'torch'])).toThrow("--gen-engines takes engines among auto, tfjs, onnxruntime, got 'torch'");
    expect([defaultGenBatches('random-40M'), defaultGenBatches('random-1b')]).toEqual([2, 0]);
  });
});
