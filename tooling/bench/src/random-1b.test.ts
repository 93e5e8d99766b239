import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { tf } from '@bayes-peft/tensor';
import { benchModel, type BenchResult } from './harness';
import { defaultCacheDir } from './models';

// A model of Llama-3.2-1B's exact shapes (BF16, one 2.47 GB file) loads, trains one BLoB step
// and evaluates with 2 weight samples on both engines, at batch 1 x seq 16. The weights are kept
// in host memory (over the wasm heap's reach as float32); this checks that path end to end at
// the size users run, with finite losses and no tensor left behind. Made once in the bench's
// cache folder (seeded: the same bytes every time).
const STORED_BYTES = 2.47e9;
const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);

describe('random-1b (Llama-3.2-1B shapes, BF16) on this machine', () => {
  let dir: string;
  const results: BenchResult[] = [];
  beforeAll(async () => {
    dir = path.join(defaultCacheDir(), 'random-1b');
    await makeTinyLlama(dir, 'random-1b');
  }, 600_000);
  afterAll(() => {
    for (const r of results) {
      process.stderr.write(
        `random-1b ${r.eval_engine}: forward ${r.forward_ms} ms, train step ${r.train_ms_per_step} ms, eval ${r.eval_ms_per_batch} ms (${r.eval_samples} samples), peak RSS ${r.peak_rss_mib} MiB; weights: ${r.weights}\n`,
      );
    }
  });

  // Each run loads its own copy; the previous one's host memory (ArrayBuffers of a disposed
  // model) must be collected first, or the second peak would count both.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  beforeEach(() => gc());

  for (const engine of ['tfjs', 'onnxruntime'] as const) {
    const run = engine === 'onnxruntime' && ortMissing ? it.skip : it; // off CI only, when onnxruntime-node does not load here
    run(`forward, one BLoB step (r 8 on q_proj, v_proj) and a 2-sample evaluation on ${engine}`, async () => {
      const before = tf.memory().numTensors;
      const r = await benchModel({
        model: 'random-1b',
        dir,
        batch: 1,
        seq: 16,
        steps: 1,
        warmup: 0,
        evalBatches: 1,
        evalWarmup: 0,
        evalSamples: 2,
        loraTargets: ['q_proj', 'v_proj'],
        engine,
      });
      results.push(r);
      expect(r.eval_engine).toBe(engine);
      expect(r.weights).toMatch(/^2\.47 GB bf16, host memory/);
      expect(r.train_losses.every(Number.isFinite)).toBe(true);
      expect(r.leaked_tensors).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
      // The memory goal: the stored weights plus 1.5 GB.
      expect(r.peak_rss_mib * 2 ** 20).toBeLessThan(STORED_BYTES + 1.5e9);
    }, 600_000);
  }
});
