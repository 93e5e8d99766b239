import type { Backbone, EncodedBatch, EvalPhase, GenerateOptions, GenerationResult, McqBatch, OptimizerState, PredictOptions, Rng, TrainBatch } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import {
  checkAttachDispose,
  checkCalibrate,
  checkDeterminism,
  checkGenerate,
  checkGenerativeTraining,
  checkOnnxEngine,
  checkPredict,
  checkResolves,
  checkResume,
  checkSaveLoad,
  checkTraining,
  ConformanceError,
  warmUp,
  type ConformanceTarget,
} from './checks';
import { loadTinyBackbone } from './tiny-backbone';
import { PlainLoraWrapper, pluginOf } from './plain-lora-wrapper.test-support';

// Each check must pass a correct wrapper and catch the one defect it is about: the variants of
// a plain LoRA wrapper below each break one rule of the contract.

class LeakyStep extends PlainLoraWrapper {
  override trainStep(batch: McqBatch, step: number) {
    tf.ones([1]); // never disposed
    return super.trainStep(batch, step);
  }
}

class Frozen extends PlainLoraWrapper {
  override trainStep() {
    return { loss: 1, nll: 1 };
  }
}

class ForgetfulLoad extends PlainLoraWrapper {
  override async load(): Promise<void> {}
}

class NoisyPredict extends PlainLoraWrapper {
  override async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const out = await super.predict(batch, options);
    const noisy = tf.tidy(() => tf.add(out, Math.random()) as tf.Tensor3D); // outside the run's seed
    out.dispose();
    return noisy;
  }
}

class FlatPredict extends PlainLoraWrapper {
  override async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const out = await super.predict(batch, options);
    const flat = tf.squeeze(out, [1]);
    out.dispose();
    return flat as unknown as tf.Tensor3D;
  }
}

/** Two weight samples in predict, but one generation per prompt. */
class TwoSamplesOneGeneration extends PlainLoraWrapper {
  override async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const out = await super.predict(batch, options);
    const two = tf.concat([out, out], 1) as tf.Tensor3D;
    out.dispose();
    return two;
  }
  override generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    return super.generate(batch, options);
  }
}

/** Peeks at the engine (which a wrapper never needs) and is off by a little on onnxruntime: the check must see it. */
class SkewedOnnx extends PlainLoraWrapper {
  override async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const y = await super.predict(batch, options);
    if ((this.backbone as { engine?: string }).engine !== 'onnxruntime') return y;
    const skewed = tf.tidy(() => tf.add(y, 1e-3) as tf.Tensor3D);
    y.dispose();
    return skewed;
  }
}

/** Hides its LoRA behind an adapter without an ONNX export: it can evaluate on TensorFlow.js only. */
class NoOnnxExport extends PlainLoraWrapper {
  override attach(backbone: Backbone): void {
    super.attach(backbone);
    for (const site of backbone.sites()) {
      const inner = site.adapter;
      if (inner) site.adapter = { delta: (x, ctx) => inner.delta(x, ctx) };
    }
  }
}

/** Plain LoRA with its optimizer state for checkpoints, and a little noise on every prediction from the stream `stream()` gives. */
class ResumableNoisy extends PlainLoraWrapper {
  getTrainingState() {
    return this.optimizer ? { optimizer: this.optimizer.getState() } : null;
  }
  setTrainingState(state: { optimizer: OptimizerState }) {
    this.optimizer!.setState(state.optimizer);
  }
  /** The k-th predict call's stream, numbered by the run's Rng (its position is in the checkpoint). */
  protected stream(): Rng {
    return this.run.rng.nextChild('predict-noise');
  }
  override async predict(batch: McqBatch, options: PredictOptions): Promise<tf.Tensor3D> {
    const out = await super.predict(batch, options);
    const seed = this.stream().nextSeed() || 1;
    const noisy = tf.tidy(() => tf.add(out, tf.randomNormal(out.shape, 0, 0.01, 'float32', seed)) as tf.Tensor3D);
    out.dispose();
    return noisy;
  }
}

/** BLoB's resume defect before it was fixed: a counter of predict calls kept in the wrapper, which no checkpoint holds. */
class CountedNoise extends ResumableNoisy {
  private calls = 0;
  protected override stream(): Rng {
    return this.run.rng.child(`predict-noise/${this.calls++}`);
  }
}

/** Forgets the optimizer state it is given: a resumed run's Adam moments start from zero. */
class ForgetfulOptimizer extends ResumableNoisy {
  override setTrainingState() {}
}

class StickyDispose extends PlainLoraWrapper {
  override dispose(): void {
    const backbone = this.backbone!;
    const adapters = backbone.sites().map((s) => s.adapter);
    super.dispose();
    backbone.sites().forEach((s, i) => (s.adapter = adapters[i]));
  }
}

/** Training-free with a calibrate step that fits a temperature and leaks one tensor per call. */
class LeakyCalibration extends PlainLoraWrapper {
  readonly trainingFree = true;
  async calibrate() {
    tf.scalar(1); // never disposed
    return { log: [{ temperature: 1, nll: 0.5 }], summary: { temperature: 1 } };
  }
}

/** Trains multiple-choice batches only: an answer batch is "trained" without touching the adapter. */
class McqOnly extends PlainLoraWrapper {
  override trainStep(batch: TrainBatch, step: number) {
    return batch.kind === 'answer' ? { loss: 1, nll: 1 } : super.trainStep(batch, step);
  }
}

/** Samples its generations from Math.random, outside the run's seed. */
class UnseededGeneration extends PlainLoraWrapper {
  override generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    return super.generate(batch, { ...options, ctx: { ...options.ctx, rng: options.ctx.rng.child(String(Math.random())) } });
  }
}

class GoodCalibration extends PlainLoraWrapper {
  readonly trainingFree = true;
  async calibrate() {
    return { log: [{ temperature: 1, nll: 0.5 }], summary: { temperature: 1, method: 'grid' } };
  }
}

describe('conformance checks', () => {
  let backbone: Backbone;
  const target = (plugin: ConformanceTarget['plugin']): ConformanceTarget => ({ plugin, steps: 3, seed: 7, backbone });

  beforeAll(async () => {
    backbone = await loadTinyBackbone();
    await warmUp(backbone);
  });
  afterAll(() => backbone?.dispose());
  afterEach(() => {
    // A failed check must not leave a broken wrapper's adapters for the next test.
    for (const s of backbone.sites()) s.adapter = null;
  });

  it('pass a correct wrapper, keeping the tensor count where it was', async () => {
    const t = target(pluginOf('plain', (run, lora) => new PlainLoraWrapper(run, lora)));
    const before = tf.memory().numTensors;
    checkResolves(t);
    await checkAttachDispose(t);
    const results = checkTraining(t);
    expect(results).toHaveLength(3);
    expect(results.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.nll))).toBe(true);
    expect(await checkPredict(t)).toEqual({ intermediate: [4, 1, 4], final: [4, 1, 4] });
    await checkSaveLoad(t);
    await checkDeterminism(t);
    await checkGenerate(t);
    const open = await checkGenerativeTraining(t);
    expect(open.nll!.after).toBeLessThan(open.nll!.before);
    expect(open.texts).toHaveLength(3); // [prompts][samples]
    expect(open.texts.every((row) => row.length === 1 && typeof row[0] === 'string')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('catch a wrapper that does not train answer batches, and generations drawn outside the seed', async () => {
    await expect(checkGenerativeTraining(target(pluginOf('mcq-only', (r, l) => new McqOnly(r, l))))).rejects.toThrow(
      /mcq-only: 5 steps at lr 0.05 on an answer batch left its mean answer-token NLL at .* does trainStep train answer batches/,
    );
    await expect(checkGenerativeTraining(target(pluginOf('unseeded', (r, l) => new UnseededGeneration(r, l))))).rejects.toThrow(
      /unseeded: two runs with seed 7 generate different tokens after open-ended training/,
    );
  });

  it('catch a training step that leaks a tensor', () => {
    expect(() => checkTraining(target(pluginOf('leaky', (r, l) => new LeakyStep(r, l))))).toThrow(/leaky: trainStep\(1\) leaks/);
  });

  it('catch a training step that changes nothing', () => {
    expect(() => checkTraining(target(pluginOf('frozen', (r, l) => new Frozen(r, l))))).toThrow(/left every variable unchanged/);
  });

  it('catch a load() that does not restore the saved weights', async () => {
    await expect(checkSaveLoad(target(pluginOf('forgetful', (r, l) => new ForgetfulLoad(r, l))))).rejects.toThrow(/load\(save\(trained\)\) predicts differently/);
  });

  it('catch predictions drawn outside the seed', async () => {
    await expect(checkDeterminism(target(pluginOf('noisy', (r, l) => new NoisyPredict(r, l))))).rejects.toThrow(/two runs with seed 7 predict differently/);
  });

  it('catch predict logits without the samples axis', async () => {
    await expect(checkPredict(target(pluginOf('flat', (r, l) => new FlatPredict(r, l))))).rejects.toThrow(/predict\(intermediate\) has shape \[4,4\], expected \[4, samples >= 1, 4\]/);
  });

  it('catch generate returning fewer results than predict has weight samples', async () => {
    await expect(checkGenerate(target(pluginOf('two-one', (r, l) => new TwoSamplesOneGeneration(r, l))))).rejects.toThrow(/row 0 has 1 result\(s\); predict\(intermediate\) uses 2 weight sample\(s\)/);
  });

  it('pass a wrapper whose predictions are the same on either engine, and catch one whose are not or cannot run on onnxruntime', async () => {
    expect(await checkOnnxEngine(target(pluginOf('plain', (r, l) => new PlainLoraWrapper(r, l))))).toBeLessThan(1e-4);
    await expect(checkOnnxEngine(target(pluginOf('skewed', (r, l) => new SkewedOnnx(r, l))))).rejects.toThrow(/skewed: onnxruntime's logits differ from TensorFlow.js' by 0\.00/);
    await expect(checkOnnxEngine(target(pluginOf('no-export', (r, l) => new NoOnnxExport(r, l))))).rejects.toThrow(/no-export: cannot run on onnxruntime: the adapter on .* has no ONNX export/);
  });

  it('pass a wrapper that resumes exactly from a checkpoint, and catch streams or state a checkpoint does not hold', async () => {
    expect(await checkResume(target(pluginOf('resumable', (r, l) => new ResumableNoisy(r, l))))).toBe('resumed');
    await expect(checkResume(target(pluginOf('counted', (r, l) => new CountedNoise(r, l))))).rejects.toThrow(
      /counted: resumed after step 3 of 6 in a fresh wrapper, the evaluation after step 5 predicts differently/,
    );
    await expect(checkResume(target(pluginOf('forgetful-opt', (r, l) => new ForgetfulOptimizer(r, l))))).rejects.toThrow(
      /forgetful-opt: resumed after step 3 of 6 in a fresh wrapper, trainStep\(4\) gives loss/,
    );
    await expect(checkResume(target(pluginOf('forgetful-load', (r, l) => new (class extends ResumableNoisy { override async load() {} })(r, l))))).rejects.toThrow(
      /forgetful-load: resumed after step 3 of 6 in a fresh wrapper, trainStep\(3\) gives loss/,
    );
    // Without optimizer state the runner restarts interrupted runs: nothing to resume.
    expect(await checkResume(target(pluginOf('plain', (r, l) => new PlainLoraWrapper(r, l))))).toBe('restarts');
    // A training-free method: evaluations, a checkpoint, a fresh wrapper that calibrates and predicts.
    expect(await checkResume(target(pluginOf('calibrated', (r, l) => new GoodCalibration(r, l))))).toBe('resumed');
  });

  it('catch a dispose() that leaves adapters on the backbone', async () => {
    await expect(checkAttachDispose(target(pluginOf('sticky', (r, l) => new StickyDispose(r, l))))).rejects.toThrow(/dispose\(\) left adapters on \d+ site/);
  });

  it('check training-free methods without training them, and catch a calibrate() that leaks', async () => {
    const good = target(pluginOf('calibrated', (r, l) => new GoodCalibration(r, l)));
    await checkAttachDispose(good);
    await checkCalibrate(good);
    await checkSaveLoad(good); // a perturbed adapter stands in for training
    await checkDeterminism(good);
    expect(() => checkTraining(good)).toThrow(/training-free/);
    expect((await checkGenerativeTraining(good)).nll).toBeNull(); // no training, still calibrates and generates
    await expect(checkCalibrate(target(pluginOf('leaky-cal', (r, l) => new LeakyCalibration(r, l))))).rejects.toThrow(/calibrate\(\) leaks 1 tensor\(s\) per call/);
  });

  it('reject a plugin of another kind, with a ConformanceError naming it', () => {
    const dataset = { ...pluginOf('not-a-wrapper', (r, l) => new PlainLoraWrapper(r, l)), kind: 'dataset' as const };
    // A plugin of the wrong kind on purpose: what a JavaScript caller can pass.
    const wrong = dataset as unknown as ConformanceTarget['plugin'];
    expect(() => checkResolves(target(wrong))).toThrow(ConformanceError);
    expect(() => checkResolves(target(wrong))).toThrow(/not-a-wrapper: plugin kind is 'dataset'/);
  });
});
