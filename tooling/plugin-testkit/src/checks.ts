// The conformance checks, one function each, so describeWrapperConformance can name them as
// jest tests and the testkit's own tests can show that each one catches what it should. Every
// check builds fresh wrappers on a shared backbone and disposes them, whatever happens.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, trainObjective, type AnswerBatch, type Backbone, type CalibrationEntry, type EvalPhase, type McqBatch, type OpenExample, type RunContext, type TrainingState, type TrainStepResult, type Wrapper } from '@bayes-peft/core';
import { anchorBatches, disposeMcqBatch, disposeTrainBatch, makeAnswerBatch, readCheckpoint, restoreCheckpoint, targetTokenIds, unresumableReason, writeCheckpoint } from '@bayes-peft/runner';
import { tf } from '@bayes-peft/tensor';
import {
  CONFORMANCE_EXAMPLES,
  CONFORMANCE_LABELS,
  CONFORMANCE_OPEN_EXAMPLES,
  conformanceAnswerBatch,
  conformanceBatch,
  conformanceOpenPrompts,
  conformancePlan,
  conformancePrompts,
} from './batches';
import { createWrapper, makeRunContext, type WrapperSetup } from './run-container';

/** What every check needs: the plugin, how to configure it, and the model to attach to. */
export interface ConformanceTarget extends WrapperSetup {
  readonly backbone: Backbone;
  /** Training steps per run (the first warms up; the rest must keep the tensor count flat). */
  readonly steps: number;
  readonly seed: number;
}

/** A conformance failure: says which contract rule the wrapper broke and how. */
export class ConformanceError extends Error {
  constructor(wrapper: string, message: string) {
    super(`${wrapper}: ${message}`);
    this.name = 'ConformanceError';
  }
}

const PHASES: readonly EvalPhase[] = ['intermediate', 'final'];

/** Resolves through the plugin's register; the wrapper's name, averaging and methods are there. */
export function checkResolves(t: ConformanceTarget): void {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  if (t.plugin.kind !== 'wrapper') fail(`plugin kind is '${t.plugin.kind}', expected 'wrapper'`);
  const w = createWrapper(t, t.seed);
  try {
    if (typeof w.name !== 'string' || !w.name) fail('wrapper.name must be a non-empty string');
    if (w.averaging !== 'probs' && w.averaging !== 'logits') fail(`averaging is '${String(w.averaging)}', expected 'probs' or 'logits'`);
    for (const m of ['attach', 'prepare', 'trainStep', 'predict', 'generate', 'save', 'load', 'variables', 'dispose'] as const) {
      if (typeof w[m] !== 'function') fail(`${m}() is missing`);
    }
    if ((typeof w.getTrainingState === 'function') !== (typeof w.setTrainingState === 'function')) {
      fail('getTrainingState and setTrainingState come as a pair (a resumed run needs both)');
    }
  } finally {
    w.dispose();
  }
}

/**
 * attach installs adapters on the backbone's sites; dispose removes them and frees every tensor
 * the wrapper made (after attach, prepare, a step and a prediction).
 */
export async function checkAttachDispose(t: ConformanceTarget): Promise<void> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const batch = conformanceBatch(t.backbone);
  try {
    // A bare forward first: the backbone may cache tables on first use, which are not the wrapper's.
    tf.dispose(t.backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } }));
    const before = tf.memory().numTensors;
    const w = createWrapper(t, t.seed);
    try {
      w.attach(t.backbone);
      if (!t.backbone.sites().some((s) => s.adapter !== null)) fail('attach() installed no adapter on any backbone site');
      if (w.variables().length === 0) fail('variables() is empty after attach(); a wrapper trains at least one variable');
      if (!w.trainingFree) {
        w.prepare(conformancePlan(t.steps));
        w.trainStep(batch, 0);
      }
      tf.dispose(await w.predict(batch, { phase: 'final' }));
    } finally {
      w.dispose();
    }
    const left = t.backbone.sites().filter((s) => s.adapter !== null);
    if (left.length) fail(`dispose() left adapters on ${left.length} site(s), e.g. ${left[0].name}`);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) fail(`dispose() left ${leaked} tensor(s) alive (numTensors ${before} before the wrapper, ${before + leaked} after dispose)`);
  } finally {
    disposeMcqBatch(batch);
  }
}

/**
 * prepare(plan) then `steps` training steps: every result is a finite number with `loss` and
 * `nll`, the tensor count is flat after the first step, and training changes the variables.
 */
export function checkTraining(t: ConformanceTarget): TrainStepResult[] {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  if (t.steps < 2) fail(`steps must be at least 2 to check for leaks across steps (got ${t.steps})`);
  return withWrapper(t, t.seed, (w, batch) => {
    if (w.trainingFree) fail('is training-free (trainingFree: true); the runner never trains it, so there is nothing to check here');
    w.prepare(conformancePlan(t.steps));
    const initial = snapshot(w);
    const results: TrainStepResult[] = [];
    let baseline = 0;
    for (let step = 0; step < t.steps; step++) {
      const r = w.trainStep(batch, step);
      results.push(r);
      for (const key of ['loss', 'nll']) if (typeof r?.[key] !== 'number') fail(`trainStep(${step}) returned no numeric '${key}'`);
      for (const [key, value] of Object.entries(r)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) fail(`trainStep(${step}) returned ${key} = ${String(value)}; every value must be a finite number`);
      }
      // The first step may create optimizer slots; after it, a step must make and free as many tensors as it needs.
      if (step === 0) baseline = tf.memory().numTensors;
      else if (tf.memory().numTensors !== baseline) {
        fail(`trainStep(${step}) leaks: numTensors ${tf.memory().numTensors}, ${baseline} after step 0 (wrap the step in tf.tidy and dispose gradients)`);
      }
    }
    if (!changed(initial, snapshot(w))) fail(`${t.steps} training steps at lr 1e-2 left every variable unchanged`);
    return results;
  });
}

/**
 * predict in both phases without prepare (an evaluation-only run) returns finite logits
 * [batch, samples, classes], and repeated predictions keep the tensor count flat.
 */
export async function checkPredict(t: ConformanceTarget): Promise<Record<EvalPhase, number[]>> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  return withWrapperAsync(t, t.seed, async (w, batch) => {
    const shapes = {} as Record<EvalPhase, number[]>;
    for (const phase of PHASES) {
      const before = tf.memory().numTensors;
      for (let k = 0; k < 2; k++) {
        const out = await w.predict(batch, { phase });
        const shape = [...out.shape];
        const values = out.dataSync();
        out.dispose();
        const [B, S, C] = shape;
        if (shape.length !== 3 || B !== CONFORMANCE_EXAMPLES.length || C !== CONFORMANCE_LABELS.length || !(S >= 1)) {
          fail(`predict(${phase}) has shape [${shape}], expected [${CONFORMANCE_EXAMPLES.length}, samples >= 1, ${CONFORMANCE_LABELS.length}] (batch, samples, classes)`);
        }
        const bad = values.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) fail(`predict(${phase}) returned a non-finite logit (${values[bad]} at flat index ${bad})`);
        shapes[phase] = shape;
      }
      const after = tf.memory().numTensors;
      if (after !== before) fail(`predict(${phase}) leaks ${after - before} tensor(s) per two calls (the caller disposes only the returned tensor)`);
    }
    return shapes;
  });
}

/**
 * A trained wrapper's save(dir), loaded into a fresh wrapper of the same seed, predicts exactly
 * what the trained one predicts; and a fresh wrapper without the load predicts differently, so
 * the match comes from the saved weights, not from the seed alone.
 */
export async function checkSaveLoad(t: ConformanceTarget): Promise<void> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-conformance-'));
  try {
    // Each wrapper's first predict call is the one compared: sampling wrappers draw their noise
    // from the seed and the call's index, as a run's final evaluation does.
    const trained = await withWrapperAsync(t, t.seed, async (w, batch) => {
      await fit(w, t, batch);
      await w.save(dir);
      return await predictHost(w, batch, 'final');
    });
    if (!(await containsFile(dir, 'adapter_config.json'))) fail(`save(${dir}) wrote no adapter_config.json (the PEFT layout)`);
    const untrained = await withWrapperAsync(t, t.seed, (w, batch) => predictHost(w, batch, 'final'));
    // As a run with `adapter:` does it: load, then calibrate when the method has that step.
    const loaded = await withWrapperAsync(t, t.seed, async (w, batch) => {
      await w.load(dir);
      if (w.calibrate) await w.calibrate(conformanceAnchor(t.backbone), { numExamples: CONFORMANCE_EXAMPLES.length });
      return await predictHost(w, batch, 'final');
    });
    if (sameValues(trained, untrained)) {
      fail(`predictions after fitting (${t.steps} training steps, or a perturbed adapter for a training-free method) equal a fresh wrapper's, so the round trip would prove nothing; does what trainStep updates reach predict?`);
    }
    const d = maxAbsDiff(trained, loaded);
    if (!sameValues(trained, loaded)) fail(`load(save(trained)) predicts differently from the trained wrapper: max |diff| ${d} over ${trained.length} logits`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Two fresh runs with one seed (attach, prepare, train, predict) give identical losses and predictions. */
export async function checkDeterminism(t: ConformanceTarget): Promise<void> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const run = () =>
    withWrapperAsync(t, t.seed, async (w, batch) => {
      const losses = (await fit(w, t, batch)).map((r) => r.loss);
      return { losses, predictions: await predictHost(w, batch, 'final') };
    });
  const a = await run();
  const b = await run();
  if (!sameValues(a.losses, b.losses)) fail(`two runs with seed ${t.seed} train to different losses: [${a.losses}] vs [${b.losses}]`);
  if (!sameValues(a.predictions, b.predictions)) {
    fail(`two runs with seed ${t.seed} predict differently (max |diff| ${maxAbsDiff(a.predictions, b.predictions)}); draw every random number from the run's Rng`);
  }
}

/** Steps of the resume check's runs, and the step its interrupted run checkpoints after. */
export const RESUME_STEPS = 6;
export const RESUME_AT = 3;
/** Steps after which the resume check evaluates (predict 'intermediate'), as a run's evalEvery would. */
const RESUME_EVALS: readonly number[] = [2, 3, 5];
/** Intermediate evaluations of a training-free method's runs (before its checkpoint; the runner never trains it). */
const TRAINING_FREE_EVALS = 2;

/**
 * A run stopped after RESUME_AT of RESUME_STEPS steps and resumed in a fresh process ends exactly
 * where the uninterrupted run ends, bit for bit. Both runs train on the conformance batch and
 * evaluate (predict 'intermediate') after the steps in RESUME_EVALS, as a run with evalEvery
 * does; the interrupted one writes the runner's checkpoint (core's writeCheckpoint: the adapter
 * by save(), the optimizer state, the state of the run's random streams) after step RESUME_AT
 * and its evaluation, and is dropped. A FRESH run context (a new Rng of the same seed) and a fresh
 * wrapper instance, attached and prepared, take the checkpoint back through the runner's
 * restoreCheckpoint and train the remaining steps. The step results and evaluations after the
 * checkpoint, the final variables, the optimizer state and the final predictions (hence every
 * metric computed from them) must be identical. A method that draws from a stream whose
 * position lives outside the checkpoint (e.g. a counter of predict calls in the wrapper) fails
 * here: derive per-step streams from the step, rng.child(`train/${step}`), and per-call streams
 * from rng.nextChild('predict'), whose positions the checkpoint holds.
 *
 * A training-free method (never trained, never checkpointed by the runner) is checked the same
 * way with no steps: its fitted stand-in evaluates twice, is checkpointed, and a fresh wrapper
 * restored from the checkpoint calibrates and predicts as the uninterrupted one does. A wrapper
 * without getTrainingState is never resumed (the runner restarts its interrupted runs from step
 * 0, which is exact by construction): the check returns 'restarts' for it.
 */
export async function checkResume(t: ConformanceTarget): Promise<'resumed' | 'restarts'> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-resume-'));
  // A folder that does not exist yet, as the runner's adapter.tmp.
  const dir = path.join(tmp, 'adapter');
  try {
    const probe = createWrapper(t, t.seed);
    const trainingFree = probe.trainingFree === true;
    const keepsState = typeof probe.getTrainingState === 'function';
    probe.dispose();
    // Without optimizer state the runner restarts an interrupted run from step 0: exact by construction.
    if (!trainingFree && !keepsState) return 'restarts';
    const total = trainingFree ? 0 : RESUME_STEPS;
    const stopAt = trainingFree ? 0 : RESUME_AT;
    /** The start of either run: a training-free method's fitted stand-in, the plan's optimizers otherwise. */
    const start = (w: Wrapper) => {
      if (trainingFree) perturb(w, t.seed);
      else w.prepare(conformancePlan(total));
    };
    const steps = async (w: Wrapper, batch: McqBatch, from: number, to: number, out: RunRecord) => {
      for (let step = from; step < to; step++) {
        out.steps.push({ step, result: w.trainStep(batch, step) });
        if (RESUME_EVALS.includes(step + 1)) out.evals.push({ after: step + 1, logits: await predictHost(w, batch, 'intermediate') });
      }
    };
    const finish = async (w: Wrapper, batch: McqBatch, run: RunContext, out: RunRecord) => {
      if (w.calibrate) await w.calibrate(conformanceAnchor(t.backbone), { numExamples: CONFORMANCE_EXAMPLES.length });
      out.final = await predictHost(w, batch, 'final');
      out.variables = snapshot(w);
      out.trainingState = w.getTrainingState?.() ?? null;
      out.rng = JSON.stringify(run.rng.state());
    };

    // The uninterrupted run.
    const whole = newRecord();
    const wholeRun = makeRunContext(t.seed);
    await withWrapperAsync(t, t.seed, async (w, batch) => {
      start(w);
      if (trainingFree) for (let e = 0; e < TRAINING_FREE_EVALS; e++) whole.evals.push({ after: 0, logits: await predictHost(w, batch, 'intermediate') });
      await steps(w, batch, 0, total, whole);
      await finish(w, batch, wholeRun, whole);
    }, wholeRun);

    // The interrupted run: stopAt steps (and their evaluations), a checkpoint, gone.
    const firstRun = makeRunContext(t.seed);
    await withWrapperAsync(t, t.seed, async (w, batch) => {
      start(w);
      const ignored = newRecord();
      if (trainingFree) for (let e = 0; e < TRAINING_FREE_EVALS; e++) await predictHost(w, batch, 'intermediate');
      await steps(w, batch, 0, stopAt, ignored);
      await writeCheckpoint(dir, w, firstRun.rng, stopAt);
    }, firstRun);

    // The resumed process: a new run context and wrapper, the checkpoint restored, the rest of the run.
    const resumed = newRecord();
    const resumedRun = makeRunContext(t.seed);
    await withWrapperAsync(t, t.seed, async (w, batch) => {
      start(w);
      const info = await readCheckpoint(dir);
      if (!info) return fail('writeCheckpoint wrote no readable checkpoint.json');
      if (!trainingFree) {
        const why = unresumableReason(info, w);
        if (why) fail(`has getTrainingState, but the runner would not resume its checkpoint (${why}); an interrupted run would start over`);
      }
      const step = await restoreCheckpoint(dir, w, resumedRun.rng, info);
      if (step !== stopAt) fail(`the checkpoint says step ${step}, written after step ${stopAt}`);
      await steps(w, batch, stopAt, total, resumed);
      await finish(w, batch, resumedRun, resumed);
    }, resumedRun);

    const where = `resumed after step ${stopAt} of ${total} in a fresh wrapper`;
    const hint = "every random stream must be derived from the step (rng.child(`train/${step}`)) or drawn through rng.nextChild(...), whose position the checkpoint keeps; every other state must be in save() or getTrainingState()";
    for (const r of resumed.steps) {
      const u = whole.steps.find((s) => s.step === r.step)!;
      for (const [key, value] of Object.entries(u.result)) {
        if (!Object.is(value, r.result[key])) fail(`${where}, trainStep(${r.step}) gives ${key} ${r.result[key]}, the uninterrupted run ${value}: ${hint}`);
      }
    }
    const wholeEvals = whole.evals.filter((e) => e.after > stopAt);
    if (wholeEvals.length !== resumed.evals.length) fail(`${where}: ${resumed.evals.length} evaluations after the checkpoint, expected ${wholeEvals.length}`);
    wholeEvals.forEach((e, i) => {
      if (!sameValues(e.logits, resumed.evals[i].logits)) {
        fail(`${where}, the evaluation after step ${e.after} predicts differently from the uninterrupted run's (max |diff| ${maxAbsDiff(e.logits, resumed.evals[i].logits)}): ${hint}`);
      }
    });
    if (whole.variables.length !== resumed.variables.length) fail(`${where}: ${resumed.variables.length} variables, the uninterrupted run ${whole.variables.length}`);
    whole.variables.forEach((v, i) => {
      if (!sameValues(v, resumed.variables[i])) fail(`${where}, variable ${i} ends differently from the uninterrupted run's (max |diff| ${maxAbsDiff(v, resumed.variables[i])}): ${hint}`);
    });
    const stateDiff = trainingStateDifference(whole.trainingState, resumed.trainingState);
    if (stateDiff) fail(`${where}, the optimizer state ends differently: ${stateDiff}`);
    if (!sameValues(whole.final, resumed.final)) {
      fail(`${where}, the final predictions differ from the uninterrupted run's (max |diff| ${maxAbsDiff(whole.final, resumed.final)} over ${whole.final.length} logits): ${hint}`);
    }
    if (whole.rng !== resumed.rng) fail(`${where}, the random streams end at ${resumed.rng}, the uninterrupted run's at ${whole.rng}`);
    return 'resumed';
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

interface RunRecord {
  steps: { step: number; result: TrainStepResult }[];
  evals: { after: number; logits: number[] }[];
  final: number[];
  variables: number[][];
  trainingState: TrainingState | null;
  rng: string;
}

function newRecord(): RunRecord {
  return { steps: [], evals: [], final: [], variables: [], trainingState: null, rng: '' };
}

/** Where two training states differ (by position: variable names differ between wrapper instances), or null. */
function trainingStateDifference(a: TrainingState | null, b: TrainingState | null): string | null {
  if (!a || !b) return a === b ? null : `${a ? 'present' : 'null'} uninterrupted, ${b ? 'present' : 'null'} resumed`;
  const keys = Object.keys(a).sort();
  if (keys.join() !== Object.keys(b).sort().join()) return `optimizers [${keys}] uninterrupted, [${Object.keys(b).sort()}] resumed`;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (!x || !y) {
      if (x !== y) return `'${key}' is ${x ? 'present' : 'null'} uninterrupted, ${y ? 'present' : 'null'} resumed`;
      continue;
    }
    if (x.kind !== y.kind || x.params.length !== y.params.length) return `'${key}' is ${x.kind} of ${x.params.length} parameters uninterrupted, ${y.kind} of ${y.params.length} resumed`;
    for (const [i, p] of x.params.entries()) {
      const q = y.params[i];
      if (p.step !== q.step) return `'${key}' parameter ${i} has taken ${q.step} steps, uninterrupted ${p.step}`;
      if (Object.keys(p.slots).sort().join() !== Object.keys(q.slots).sort().join()) return `'${key}' parameter ${i} has slots [${Object.keys(q.slots)}], uninterrupted [${Object.keys(p.slots)}]`;
      for (const [slot, data] of Object.entries(p.slots)) {
        const other = Array.from(q.slots[slot]);
        if (!sameValues(Array.from(data), other)) return `'${key}' parameter ${i} '${slot}' differs (max |diff| ${maxAbsDiff(Array.from(data), other)})`;
      }
    }
  }
  return null;
}

/**
 * generate returns [batch][samples] results, with as many samples as predict uses in the same
 * phase, each continuing its prompt by the requested number of tokens, without leaking tensors.
 */
export async function checkGenerate(t: ConformanceTarget): Promise<void> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const maxNewTokens = 3;
  const prompts = conformancePrompts(t.backbone);
  await withWrapperAsync(t, t.seed, async (w, batch) => {
    for (const phase of PHASES) {
      const before = tf.memory().numTensors;
      const out = await w.generate(prompts, { maxNewTokens, temperature: 1, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(t.seed).child('generate') }, phase });
      if (tf.memory().numTensors !== before) fail(`generate(${phase}) leaks ${tf.memory().numTensors - before} tensor(s)`);
      const pred = await w.predict(batch, { phase });
      const samples = pred.shape[1];
      pred.dispose();
      if (!Array.isArray(out) || out.length !== prompts.ids.length) fail(`generate(${phase}) returned ${Array.isArray(out) ? out.length : typeof out} rows for ${prompts.ids.length} prompts`);
      out.forEach((row, b) => {
        if (!Array.isArray(row) || row.length !== samples) {
          fail(`generate(${phase}) row ${b} has ${Array.isArray(row) ? row.length : typeof row} result(s); predict(${phase}) uses ${samples} weight sample(s), expected one generation per sample`);
        }
        for (const [s, r] of row.entries()) {
          const where = `generate(${phase})[${b}][${s}]`;
          if (r.newIds?.length !== maxNewTokens) fail(`${where} has ${r.newIds?.length} new tokens; expected ${maxNewTokens} (no EOS stop was asked)`);
          if (!sameValues(r.ids.slice(r.ids.length - maxNewTokens), r.newIds)) fail(`${where}.ids does not end with its newIds`);
          if (typeof r.text !== 'string') fail(`${where}.text is not a string`);
          if (!Number.isFinite(r.nll) || r.nll < 0) fail(`${where}.nll is ${r.nll}; expected a finite non-negative sum of -log p`);
        }
      });
    }
  });
}

/** Training steps of the generative check, and its learning rate: high, so a few steps clearly move the answer-token NLL. */
export const GENERATIVE_STEPS = 5;
const GENERATIVE_LR = 5e-2;
/**
 * The training set the check's batch stands for: 320 batches of 3, as in a real run. Methods
 * scale priors and KL weights by it (BLoB's KL cycle M); for a 3-example set BLoB's KL weight
 * is 1 and its KL step alone, not the data, drives rho (it diverges within 5 steps at this lr
 * on multiple-choice batches too).
 */
const GENERATIVE_TRAIN_EXAMPLES = 960;
const GENERATIVE_NEW_TOKENS = 4;

/** What the generative check saw, for the testkit's own tests and for wrapper authors' curiosity. */
export interface GenerativeCheckResult {
  /** Mean answer-token NLL of the fixed answer batch before and after training (null for a training-free method). */
  readonly nll: { readonly before: number; readonly after: number } | null;
  /** Generated texts, [prompts][samples]. */
  readonly texts: string[][];
}

/**
 * Open-ended training and generation, which every method gets through core's trainObjective
 * (the reference trains open-ended data with BLoB only: defect 4). On the open-ended conformance
 * examples as the runner batches them (makeAnswerBatch): GENERATIVE_STEPS steps at a high
 * learning rate lower the batch's mean answer-token NLL (measured before and after through the
 * backbone with one fixed evaluation context, so stochastic methods see the same draws both
 * times), every step result is finite and the tensor count is flat after the first step; then
 * (after calibrating on the open-ended set as an anchor, for methods with calibrate) generate
 * gives [prompts][samples] texts without leaking, a second run of the seed generates the same
 * tokens, and nothing is left alive after dispose. A training-free method skips the training
 * (its fitted stand-in, as in the other checks) and still calibrates and generates.
 */
export async function checkGenerativeTraining(t: ConformanceTarget): Promise<GenerativeCheckResult> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const examples = CONFORMANCE_OPEN_EXAMPLES;
  const answerLoss = (batch: AnswerBatch): number =>
    tf.tidy(() => {
      const objective = trainObjective(t.backbone, batch);
      return objective.nll(objective.forward({ training: false, rng: new Rng(t.seed).child('answer-nll') })).dataSync()[0];
    });
  // A bare forward over every position first: what the backbone builds on first use is not the wrapper's.
  const warm = conformanceAnswerBatch(t.backbone);
  try {
    tf.dispose(t.backbone.forward(warm.tokens, { output: 'all', ctx: { training: false, rng: new Rng(0) } }));
  } finally {
    disposeTrainBatch(warm);
  }
  const run = async () => {
    const before = tf.memory().numTensors;
    const result = await withWrapperAsync(t, t.seed, async (w) => {
      const batch = conformanceAnswerBatch(t.backbone);
      try {
        let nll: GenerativeCheckResult['nll'] = null;
        if (!w.trainingFree) {
          w.prepare({
            ...conformancePlan(GENERATIVE_STEPS),
            lr: GENERATIVE_LR,
            batchSize: examples.length,
            stepsPerEpoch: GENERATIVE_TRAIN_EXAMPLES / examples.length,
            numTrainExamples: GENERATIVE_TRAIN_EXAMPLES,
          });
          const start = answerLoss(batch);
          let baseline = 0;
          for (let step = 0; step < GENERATIVE_STEPS; step++) {
            const r = w.trainStep(batch, step);
            for (const [key, value] of Object.entries(r ?? {})) {
              if (typeof value !== 'number' || !Number.isFinite(value)) fail(`trainStep(${step}) on an answer batch returned ${key} = ${String(value)}; every value must be a finite number`);
            }
            if (step === 0) baseline = tf.memory().numTensors;
            else if (tf.memory().numTensors !== baseline) fail(`trainStep(${step}) on an answer batch leaks: numTensors ${tf.memory().numTensors}, ${baseline} after step 0`);
          }
          const end = answerLoss(batch);
          if (!(end < start)) {
            fail(
              `${GENERATIVE_STEPS} steps at lr ${GENERATIVE_LR} on an answer batch left its mean answer-token NLL at ${end} (from ${start}); ` +
                "does trainStep train answer batches (core's trainObjective: output 'all', the scored positions' next tokens)?",
            );
          }
          nll = { before: start, after: end };
        } else {
          perturb(w, t.seed);
        }
        if (w.calibrate) await w.calibrate(answerAnchor(t.backbone, examples), { numExamples: examples.length });
        const prompts = conformanceOpenPrompts(t.backbone);
        const count = tf.memory().numTensors;
        const out = await w.generate(prompts, {
          maxNewTokens: GENERATIVE_NEW_TOKENS,
          temperature: 1,
          topP: 1,
          eosTokenId: null,
          ctx: { training: false, rng: new Rng(t.seed).child('generate-open') },
          phase: 'final',
        });
        if (tf.memory().numTensors !== count) fail(`generate after open-ended training leaks ${tf.memory().numTensors - count} tensor(s)`);
        if (!Array.isArray(out) || out.length !== examples.length) fail(`generate returned ${Array.isArray(out) ? out.length : typeof out} rows for ${examples.length} prompts`);
        const samples = out[0]?.length ?? 0;
        if (!(samples >= 1)) fail('generate returned no sample for the first prompt');
        out.forEach((row, b) => {
          if (!Array.isArray(row) || row.length !== samples) fail(`generate row ${b} has ${Array.isArray(row) ? row.length : typeof row} samples, row 0 has ${samples}`);
          row.forEach((g, s) => {
            if (typeof g.text !== 'string') fail(`generate[${b}][${s}].text is not a string`);
            if (g.newIds?.length !== GENERATIVE_NEW_TOKENS) fail(`generate[${b}][${s}] has ${g.newIds?.length} new tokens; expected ${GENERATIVE_NEW_TOKENS}`);
          });
        });
        return { nll, texts: out.map((row) => row.map((g) => g.text)), ids: out.map((row) => row.map((g) => g.newIds)) };
      } finally {
        disposeTrainBatch(batch);
      }
    });
    if (tf.memory().numTensors !== before) fail(`open-ended training and generation left ${tf.memory().numTensors - before} tensor(s) alive after dispose()`);
    return result;
  };
  const first = await run();
  const second = await run();
  if (JSON.stringify(first.ids) !== JSON.stringify(second.ids)) {
    fail(`two runs with seed ${t.seed} generate different tokens after open-ended training: ${JSON.stringify(first.ids)} vs ${JSON.stringify(second.ids)}`);
  }
  if (JSON.stringify(first.nll) !== JSON.stringify(second.nll)) fail(`two runs with seed ${t.seed} train answer batches to different NLLs: ${JSON.stringify(first.nll)} vs ${JSON.stringify(second.nll)}`);
  return { nll: first.nll, texts: first.texts };
}

/** Open-ended examples as an anchor set of answer batches (two per batch), as the runner passes an open-ended anchor split. */
function answerAnchor(backbone: Backbone, examples: readonly OpenExample[]) {
  return anchorBatches<OpenExample>({ examples, batchSize: 2, makeBatch: (group) => makeAnswerBatch(backbone, group, 64) });
}

/**
 * calibrate (for methods that have it) on anchor batches, as the runner calls it after training:
 * returns a log of entries and a summary whose values are finite numbers, booleans, strings or
 * null, and a second call does not leave more tensors than the first.
 */
export async function checkCalibrate(t: ConformanceTarget): Promise<void> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  await withWrapperAsync(t, t.seed, async (w, batch) => {
    if (!w.calibrate) fail('has no calibrate(); nothing to check');
    await fit(w, t, batch, { calibrate: false });
    const ctx = { numExamples: CONFORMANCE_EXAMPLES.length };
    const first = await w.calibrate!(conformanceAnchor(t.backbone), ctx);
    const after = tf.memory().numTensors;
    const second = await w.calibrate!(conformanceAnchor(t.backbone), ctx);
    if (tf.memory().numTensors !== after) fail(`calibrate() leaks ${tf.memory().numTensors - after} tensor(s) per call`);
    for (const r of [first, second]) {
      if (!r || !Array.isArray(r.log)) fail('calibrate() must resolve to { log: entries[], summary }');
      r.log.forEach((entry, i) => checkEntry(entry, `log[${i}]`, fail));
      checkEntry(r.summary, 'summary', fail);
    }
  });
}

function checkEntry(entry: CalibrationEntry, where: string, fail: (m: string) => never): void {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) fail(`calibrate() ${where} is not an object`);
  for (const [k, v] of Object.entries(entry)) {
    const ok = v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) fail(`calibrate() ${where}.${k} is ${String(v)}; entries hold finite numbers, booleans, strings or null`);
  }
}

/**
 * Brings a fresh attached wrapper to a fitted state as a run does: `steps` training steps (for a
 * training-free method, a seeded perturbation of its variables stands in for the trained adapter
 * it would load), then calibrate when the method has it.
 */
async function fit(w: Wrapper, t: ConformanceTarget, batch: McqBatch, options: { calibrate?: boolean } = {}): Promise<TrainStepResult[]> {
  const results: TrainStepResult[] = [];
  if (!w.trainingFree) {
    w.prepare(conformancePlan(t.steps));
    for (let step = 0; step < t.steps; step++) results.push(w.trainStep(batch, step));
  } else {
    perturb(w, t.seed);
  }
  if (w.calibrate && options.calibrate !== false) await w.calibrate(conformanceAnchor(t.backbone), { numExamples: CONFORMANCE_EXAMPLES.length });
  return results;
}

/** A training-free method's stand-in for the trained adapter it would load: a seeded perturbation of its variables. */
function perturb(w: Wrapper, seed: number): void {
  tf.tidy(() => w.variables().forEach((v, i) => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', seed * 1000 + i)))));
}

/** The conformance examples as an anchor set in batches of two, as the runner passes one. */
function conformanceAnchor(backbone: Backbone) {
  return anchorBatches({ backbone, examples: CONFORMANCE_EXAMPLES, targetIds: targetTokenIds(backbone.tokenizer, CONFORMANCE_LABELS), batchSize: 2, maxSeqLen: 64 });
}

/**
 * One forward and one short generation of the bare backbone, so whatever it builds lazily on
 * first use is in place before the checks count tensors.
 */
export async function warmUp(backbone: Backbone): Promise<void> {
  const batch = conformanceBatch(backbone);
  try {
    tf.dispose(backbone.forward(batch.tokens, { output: 'last', columns: batch.targetIds, ctx: { training: false, rng: new Rng(0) } }));
  } finally {
    disposeMcqBatch(batch);
  }
  await backbone.generate(conformancePrompts(backbone), { maxNewTokens: 3, temperature: 0, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(0) } });
}

/**
 * The wrapper is engine-neutral: twin runs under one seed (trained the same way), one with the
 * backbone evaluating on TensorFlow.js and one on onnxruntime, give the same logits sample for
 * sample (1e-4), in both phases, without leaking tensors, the same calibration and the same
 * sampled generations (one weight sample per sequence). Returns the largest difference. Needs
 * onnxruntime-node and adapters with an ONNX export (OnnxAdapter); the caller skips the check
 * without the runtime.
 */
export async function checkOnnxEngine(t: ConformanceTarget): Promise<number> {
  const fail = (m: string): never => {
    throw new ConformanceError(t.plugin.name, m);
  };
  const { backbone } = t;
  if (!backbone.useEngine || !backbone.engineUnavailable) fail(`the backbone ${backbone.id} runs on TensorFlow.js only`);
  const run = async (engine: 'tfjs' | 'onnxruntime'): Promise<{ logits: number[][][][]; generated: number[][][]; calibration: string }> =>
    withWrapperAsync(t, t.seed, async (w, batch) => {
      const why = backbone.engineUnavailable!(engine);
      if (why) fail(`cannot run on ${engine}: ${why} (do its adapters implement OnnxAdapter? If they cannot, pass onnx: false to describeWrapperConformance)`);
      await fit(w, t, batch, { calibrate: false });
      backbone.useEngine!(engine);
      try {
        // Calibration (TFB's search) makes its forwards on the run's engine too.
        const calibration = w.calibrate ? JSON.stringify((await w.calibrate(conformanceAnchor(backbone), { numExamples: CONFORMANCE_EXAMPLES.length })).summary) : '';
        const out: number[][][][] = [];
        for (const phase of PHASES) {
          const before = tf.memory().numTensors;
          const y = await w.predict(batch, { phase });
          out.push(y.arraySync() as number[][][]);
          y.dispose();
          if (tf.memory().numTensors !== before) fail(`predict(${phase}) on ${engine} leaks ${tf.memory().numTensors - before} tensor(s)`);
        }
        // Sampled decoding, one weight sample per sequence: the same tokens under either engine.
        const prompts = conformancePrompts(backbone);
        const rows = await w.generate(prompts, { maxNewTokens: 4, temperature: 1, topP: 1, eosTokenId: null, ctx: { training: false, rng: new Rng(t.seed).child('generate') }, phase: 'final' });
        return { logits: out, generated: rows.map((perSample) => perSample.map((r) => r.newIds)), calibration };
      } finally {
        backbone.useEngine!('tfjs');
      }
    });
  const tfjsRun = await run('tfjs');
  const ortRun = await run('onnxruntime');
  if (tfjsRun.calibration !== ortRun.calibration) fail(`calibrate() on onnxruntime settles on ${ortRun.calibration}, on tfjs on ${tfjsRun.calibration}`);
  const show = (x: number[][][]) => JSON.stringify(x);
  if (show(tfjsRun.generated) !== show(ortRun.generated)) {
    fail(`generate on onnxruntime gives tokens ${show(ortRun.generated)}, with tfjs ${show(tfjsRun.generated)} (same seed): the adapters' ONNX export of a fixed weight sample differs from delta()`);
  }
  const viaTfjs = tfjsRun.logits;
  const viaOrt = ortRun.logits;
  let worst = 0;
  PHASES.forEach((phase, p) => {
    const a = viaTfjs[p];
    const b = viaOrt[p];
    const shape = (x: number[][][]) => [x.length, x[0]?.length, x[0]?.[0]?.length];
    if (shape(a).join() !== shape(b).join()) fail(`predict(${phase}): onnxruntime gives shape [${shape(b)}], TensorFlow.js [${shape(a)}]`);
    a.forEach((perSample, i) => perSample.forEach((row, s) => (worst = Math.max(worst, maxAbsDiff(row, b[i][s])))));
  });
  if (!(worst < 1e-4)) fail(`onnxruntime's logits differ from TensorFlow.js' by ${worst} (max abs; allowed 1e-4): its adapters' ONNX export or their random draws differ from delta()`);
  return worst;
}

function withWrapper<T>(t: ConformanceTarget, seed: number, fn: (w: Wrapper, batch: McqBatch) => T): T {
  const w = createWrapper(t, seed);
  const batch = conformanceBatch(t.backbone);
  try {
    w.attach(t.backbone);
    return fn(w, batch);
  } finally {
    disposeMcqBatch(batch);
    w.dispose();
  }
}

async function withWrapperAsync<T>(t: ConformanceTarget, seed: number, fn: (w: Wrapper, batch: McqBatch) => Promise<T>, run?: RunContext): Promise<T> {
  const w = createWrapper(t, seed, run);
  const batch = conformanceBatch(t.backbone);
  try {
    w.attach(t.backbone);
    return await fn(w, batch);
  } finally {
    disposeMcqBatch(batch);
    w.dispose();
  }
}

/** predict's logits on the host, flattened. */
async function predictHost(w: Wrapper, batch: McqBatch, phase: EvalPhase): Promise<number[]> {
  const out = await w.predict(batch, { phase });
  try {
    return Array.from(out.dataSync());
  } finally {
    out.dispose();
  }
}

function snapshot(w: Wrapper): number[][] {
  return w.variables().map((v) => Array.from(v.dataSync()));
}

function changed(a: number[][], b: number[][]): boolean {
  return a.length !== b.length || a.some((values, i) => !sameValues(values, b[i]));
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

async function containsFile(dir: string, name: string): Promise<boolean> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name === name) return true;
    if (e.isDirectory() && (await containsFile(path.join(dir, e.name), name))) return true;
  }
  return false;
}
