import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTinyLlama } from '@bayes-peft/fixtures';
import { loadNativeKernels } from '@bayes-peft/native-kernels';
import { tf } from '@bayes-peft/tensor';
import { benchModel } from './harness';

// 200 BLoB training steps and a 10-sample evaluation through the engine as a run gets it
// (auto: wasm with the native kernels when built): every tensor made along the way is freed.
describe('no tensor leak over 200 training steps', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-leak-'));
    await makeTinyLlama(path.join(dir, 'tiny'), 'tiny');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('leaves tf.memory().numTensors where it was', async () => {
    const before = tf.memory().numTensors;
    const r = await benchModel({ model: 'tiny', dir: path.join(dir, 'tiny'), steps: 200, warmup: 1, evalBatches: 1, evalWarmup: 0, seq: 32 });
    expect(r.train_ms).toHaveLength(200);
    expect(r.leaked_tensors).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const fastWanted = loadNativeKernels().ok && process.env.BAYES_PEFT_FAST !== '0' && r.backend === 'wasm';
    if (fastWanted) expect(r.fast_path).toMatch(/^fast path: native BatchMatMul on wasm/);
  }, 600_000);
});
