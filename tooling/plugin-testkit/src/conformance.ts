import type { Backbone, LoraConfig, Plugin } from '@bayes-peft/core';
import { checkAttachDispose, checkCalibrate, checkDeterminism, checkGenerate, checkGenerativeTraining, checkOnnxEngine, checkPredict, checkResolves, checkResume, checkSaveLoad, checkTraining, RESUME_AT, RESUME_STEPS, warmUp, type ConformanceTarget } from './checks';
import { createWrapper } from './run-container';
import { onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { loadTinyBackbone } from './tiny-backbone';

export interface WrapperConformanceOptions {
  /** The wrapper plugin: a package's default export, made by defineWrapper. */
  readonly plugin: Plugin;
  /** The spec's `wrapper.options` for the runs (the plugin's schema fills the defaults). */
  readonly options?: Record<string, unknown>;
  /** Overrides of the `lora:` section (default: r 4, alpha 8, targets q_proj, v_proj, lm_head). */
  readonly lora?: Partial<LoraConfig>;
  /** Training steps per run, at least 2 (default 3). */
  readonly steps?: number;
  /** Title of the describe block (default: `<plugin name> wrapper conformance`). */
  readonly name?: string;
  /**
   * Check that predictions, calibration and generation agree on both engines (default true).
   * false for a wrapper whose adapters have no ONNX export: its runs evaluate on TensorFlow.js.
   */
  readonly onnx?: boolean;
}

/** Generous for a cold start: the first suite on a machine writes the tiny model. */
const TIMEOUT_MS = 60_000;
const SEED = 7;

/**
 * Registers a jest `describe` block that checks a wrapper plugin against the Wrapper contract
 * the runner relies on: made by the plugin's `create` in a run session, attach/dispose, training
 * with finite results and no tensor leak, predict's [batch, samples, classes] in both phases,
 * a save/load round trip to identical predictions, determinism under a seed, an exact resume
 * from the runner's checkpoint in a fresh wrapper (variables, optimizer state and predictions
 * bit for bit), generate's [batch][samples] results, and open-ended training on answer tokens
 * followed by generation. It runs on a tiny seeded Llama loaded
 * by the real causal-LM backbone, in a few seconds.
 *
 * ```ts
 * import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
 * import plugin from './index';
 * describeWrapperConformance({ plugin, options: { samples: 4 } });
 * ```
 */
export function describeWrapperConformance(options: WrapperConformanceOptions): void {
  const title = options.name ?? `${options.plugin?.name ?? '(unnamed)'} wrapper conformance`;
  describe(title, () => {
    let backbone: Backbone | null = null;
    const target = (): ConformanceTarget => {
      if (!backbone) throw new Error('the tiny backbone did not load (see the beforeAll failure)');
      return { plugin: options.plugin, options: options.options, lora: options.lora, steps: options.steps ?? 3, seed: SEED, backbone };
    };

    beforeAll(async () => {
      backbone = await loadTinyBackbone();
      await warmUp(backbone);
    }, TIMEOUT_MS);
    afterAll(() => {
      backbone?.dispose();
      backbone = null;
    });

    const traits = probe(options);
    it('is made by its plugin create() in a run session', () => checkResolves(target()), TIMEOUT_MS);
    it('attaches adapters to backbone sites; dispose() removes them and frees every tensor', () => checkAttachDispose(target()), TIMEOUT_MS);
    // The runner never trains a training-free method, so neither does the suite.
    if (!traits.trainingFree) {
      it('trains with finite step results, no tensor leak after the first step, and moving variables', () => void checkTraining(target()), TIMEOUT_MS);
    }
    if (traits.calibrates) it('calibrates on anchor batches with a well-formed log and no leak', () => checkCalibrate(target()), TIMEOUT_MS);
    it('predicts finite [batch, samples, classes] logits in both phases without leaking', async () => void (await checkPredict(target())), TIMEOUT_MS);
    it('round-trips save() and load() into a fresh wrapper to identical predictions', () => checkSaveLoad(target()), TIMEOUT_MS);
    it('is deterministic under a seed: two fresh runs give identical losses and predictions', () => checkDeterminism(target()), TIMEOUT_MS);
    it(
      traits.trainingFree
        ? 'resumes exactly: evaluations, a checkpoint, and a fresh wrapper restored from it calibrate and predict as the uninterrupted run'
        : traits.resumable
          ? `resumes exactly: ${RESUME_AT} steps, a checkpoint, a fresh wrapper restored from it and ${RESUME_STEPS - RESUME_AT} more steps equal ${RESUME_STEPS} uninterrupted steps bit for bit`
          : 'is not resumable (no getTrainingState): the runner restarts its interrupted runs from step 0',
      async () => void (await checkResume(target())),
      TIMEOUT_MS,
    );
    it('generates [batch][samples] results, one per weight sample', () => checkGenerate(target()), TIMEOUT_MS);
    it(
      traits.trainingFree
        ? 'on open-ended data: skips training (training-free), calibrates on an open-ended anchor set and generates [prompts][samples] texts, the same under a seed, without leaking'
        : 'on open-ended data: trains on answer tokens (their NLL falls, no leak) and generates [prompts][samples] texts, the same under a seed',
      async () => void (await checkGenerativeTraining(target())),
      TIMEOUT_MS,
    );
    if (options.onnx !== false) {
      const missing = onnxRuntimeUnavailable();
      if (!missing) it('calibrates, predicts (1e-4, sample for sample) and generates through onnxruntime as on TensorFlow.js', () => checkOnnxEngine(target()), TIMEOUT_MS);
      else if (process.env.CI) it('runs on onnxruntime (required in CI)', () => expect(missing).toBeNull());
      // Off CI only, where onnxruntime-node's binary does not load: the reason is in the title.
      else it.skip(`predicts through onnxruntime (skipped: ${missing})`, () => undefined);
    }
  });
}

/**
 * Which optional parts of the contract the wrapper has, read off one instance when the suite is
 * collected (jest needs the list of tests up front). A plugin that fails to resolve here fails
 * the 'resolves' test with the real error.
 */
function probe(options: WrapperConformanceOptions): { trainingFree: boolean; calibrates: boolean; resumable: boolean } {
  try {
    const w = createWrapper(options, SEED);
    try {
      return {
        trainingFree: w.trainingFree === true,
        calibrates: typeof w.calibrate === 'function',
        resumable: typeof w.getTrainingState === 'function',
      };
    } finally {
      w.dispose();
    }
  } catch {
    return { trainingFree: false, calibrates: false, resumable: true };
  }
}
