import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { initBackend, type BackendChoice } from '@bayes-peft/tensor';
import { stringify } from 'yaml';
import type { Backbone, CalibrationResult, Dataset, McqExample, Metrics, TrainingPlan, Wrapper } from '@bayes-peft/core';
import { RunInterruptedError, SpecError, UserError, type SpecIssue } from '@bayes-peft/core';
import { consoleLogger, type Logger } from '@bayes-peft/core';
import type { PluginKind } from '@bayes-peft/core';
import { PluginRegistry, type BuiltinPlugins, type ResolvedPlugin } from './registry';
import { Rng } from '@bayes-peft/core';
import type { HubChoices, RunContext } from '@bayes-peft/core';
import { loadSpecFile, toSpecIssue, type LoadedSpec, type ResolvedRun } from './spec/load';
import type { RunSpec } from './spec/schema';
import { TOKENS } from './tokens';
import { resolveAdapterDir } from './adapter-source';
import { calibrateWrapper } from './calibrate';
import { readCheckpoint, restoreCheckpoint, unresumableReason, writeCheckpoint } from './checkpoint';
import { environmentInfo } from './env-info';
import { evaluateMcq, predictionRow } from './evaluate';
import { selectEvalEngine, type EvalEngineDecision } from './eval-engine';
import { targetTokenIds } from './mcq-batch';
import { Progress } from './progress';
import { RUN_FILES, RunFolder } from './run-folder';
import { createRunSession, type RunSession } from './run-session';
import { trainingPlan, trainLoop } from './train-loop';

export interface ExperimentOptions {
  readonly log?: Logger;
  /** Rerun runs whose folder is already complete. */
  readonly force?: boolean;
  /** Where plugin packages resolve from besides the spec's folder and the working directory. */
  readonly searchPaths?: readonly string[];
  /** The short names specs may use (the CLI passes its built-in plugins); without it only npm names and paths resolve. */
  readonly builtinPlugins?: BuiltinPlugins;
  readonly progress?: boolean;
  /** Stops the current run after its current step, with a checkpoint to resume from. */
  readonly signal?: AbortSignal;
}

export interface RunPlugins {
  readonly backbone: ResolvedPlugin & { options: Record<string, unknown> };
  readonly dataset: ResolvedPlugin & { options: Record<string, unknown> };
  readonly wrapper: ResolvedPlugin & { options: Record<string, unknown> };
}

export interface PlannedRun extends ResolvedRun {
  readonly id: string;
  readonly plugins: RunPlugins;
}

export interface RunSummary {
  readonly id: string;
  readonly dir: string;
  readonly wrapper: string;
  readonly dataset: string;
  readonly model: string;
  readonly seed: number;
  readonly metrics: Metrics;
  readonly skipped: boolean;
}

/**
 * Validates a spec completely (every run, every plugin's options) before anything is written,
 * so a bad spec leaves no run folder behind.
 */
export async function planExperiment(specFile: string, options: ExperimentOptions = {}): Promise<{ loaded: LoadedSpec; runs: PlannedRun[] }> {
  const loaded = await loadSpecFile(specFile);
  const registry = new PluginRegistry([process.cwd(), ...(options.searchPaths ?? [])], options.builtinPlugins ?? {});
  const planned: PlannedRun[] = [];
  const ids = new Map<string, number>();
  for (const run of loaded.runs) {
    const plugins = {
      backbone: resolveWithOptions(registry, loaded, run, 'backbone', 'model'),
      dataset: resolveWithOptions(registry, loaded, run, 'dataset', 'dataset'),
      wrapper: resolveWithOptions(registry, loaded, run, 'wrapper', 'wrapper'),
    };
    let id = `${plugins.wrapper.plugin.name}-${datasetLabel(plugins.dataset)}-seed${run.spec.seed}`;
    const n = ids.get(id) ?? 0;
    ids.set(id, n + 1);
    if (n > 0) id = `${id}-${n + 1}`;
    planned.push({ ...run, id, plugins });
  }
  return { loaded, runs: planned };
}

/** The dataset's plugin name, plus its configuration (subset, size, group) when it has one. */
export function datasetLabel(dataset: { plugin: { name: string }; options: Record<string, unknown> }): string {
  for (const key of ['subset', 'size', 'group', 'config']) {
    const v = dataset.options[key];
    if (typeof v === 'string' && v) return `${dataset.plugin.name}-${v.replace(/[^\w.-]+/g, '_')}`;
  }
  return dataset.plugin.name;
}

function resolveWithOptions(registry: PluginRegistry, loaded: LoadedSpec, run: ResolvedRun, kind: PluginKind, section: 'model' | 'dataset' | 'wrapper') {
  const ref = run.spec[section];
  let resolved: ResolvedPlugin;
  try {
    resolved = registry.resolve(kind, ref.plugin, loaded.dir);
  } catch (e) {
    if (e instanceof UserError) {
      throw new SpecError(loaded.file, [{ path: `${section}.plugin`, message: e.message, line: loaded.lineOf([section, 'plugin']) ?? loaded.lineOf([section]) }]);
    }
    throw e;
  }
  const parsed = resolved.plugin.options.safeParse(ref.options);
  if (!parsed.success) {
    const issues: SpecIssue[] = parsed.error.issues.map((issue) => toSpecIssue(issue, ref.options, loaded.lineOf, [section, 'options']));
    throw new SpecError(loaded.file, issues);
  }
  return { ...resolved, options: parsed.data as Record<string, unknown> };
}

/** Runs every run of a spec in order; complete runs are skipped unless `force`. */
export async function runExperiment(specFile: string, options: ExperimentOptions = {}): Promise<RunSummary[]> {
  const log = options.log ?? consoleLogger;
  const { loaded, runs } = await planExperiment(specFile, options);
  const summaries: RunSummary[] = [];
  log.info(`${loaded.file}: ${runs.length} run${runs.length === 1 ? '' : 's'}`);
  for (const [i, run] of runs.entries()) {
    log.info(`[${i + 1}/${runs.length}] ${run.id}`);
    summaries.push(await executeRun(loaded, run, { ...options, log }));
  }
  return summaries;
}

/** The spec's explicit hub choices; the hub package fills the rest from the environment. */
export function specHubChoices(spec: RunSpec, specDir = process.cwd()): HubChoices {
  return {
    offline: spec.hub.offline,
    cacheDir: spec.hub.cacheDir === undefined ? undefined : path.resolve(specDir, spec.hub.cacheDir),
    endpoint: spec.hub.endpoint,
  };
}

/**
 * One run of a spec, as a sequence of phases: skip it when complete, set it up (everything that
 * can fail on bad input, before the run folder exists), resume or start the folder, train,
 * calibrate, evaluate, write the results. A failure marks the folder failed (or interrupted);
 * the models and the container are freed either way.
 */
async function executeRun(loaded: LoadedSpec, run: PlannedRun, options: ExperimentOptions & { log: Logger }): Promise<RunSummary> {
  const { log } = options;
  const folder = new RunFolder(path.resolve(run.spec.output, run.spec.name, run.id));
  const summaryBase = runSummaryBase(run, folder);
  if (!options.force && (await folder.isComplete())) return skipCompleteRun(folder, summaryBase, log);

  const backend = await initBackend(run.spec.backend, log);
  const rng = new Rng(run.spec.seed);
  const ctx: RunContext = { seed: run.spec.seed, rng, log, specDir: loaded.dir, hub: specHubChoices(run.spec, loaded.dir) };
  const session = createRunSession({ context: ctx, lora: run.spec.lora, ...run.plugins });
  const models: RunModels = {};
  const progress = new Progress(log, options.progress === false ? false : undefined);
  const t0 = Date.now();
  try {
    const setup = await setUpRun(session, run, loaded.dir, models, log);
    const state: RunState = { ...setup, run, folder, rng, log, evalArgs: evalArguments(setup, progress) };
    const startStep = await resumeOrStartFolder(state, options.force === true);
    await writeRunRecord(state, backend, [loaded.dir, process.cwd(), ...(options.searchPaths ?? [])]);
    await trainPhase(state, startStep, options.signal);
    const calibration = await calibratePhase(state);
    const metrics = await evaluatePhase(state);
    await writeResults(state, summaryBase, metrics, calibration, t0);
    return { ...summaryBase, metrics, skipped: false };
  } catch (e) {
    await markStopped(folder, e);
    throw e;
  } finally {
    progress.close();
    models.wrapper?.dispose();
    models.backbone?.dispose();
    session.close();
  }
}

/** The loaded models of a run, kept where executeRun's `finally` can free them whatever failed. */
interface RunModels {
  backbone?: Backbone;
  wrapper?: Wrapper;
}

/** What setUpRun makes: the run's models, its data splits and the choices that follow from them. */
interface RunSetup {
  /** The run's spec, with train.steps 0 for a training-free wrapper. */
  readonly spec: RunSpec;
  readonly backbone: Backbone;
  readonly wrapper: Wrapper;
  readonly train: McqExample[];
  readonly test: McqExample[];
  readonly anchor: McqExample[];
  readonly targetIds: number[];
  readonly evalEngine: EvalEngineDecision;
  readonly plan: TrainingPlan;
}

/** Everything the phases after setUpRun share. */
interface RunState extends RunSetup {
  readonly run: PlannedRun;
  readonly folder: RunFolder;
  readonly rng: Rng;
  readonly log: Logger;
  readonly evalArgs: EvalArgs;
}

type EvalArgs = Omit<Parameters<typeof evaluateMcq>[0], 'examples' | 'phase'>;
type RunSummaryBase = Omit<RunSummary, 'metrics' | 'skipped'>;

/** The part of a run's summary known before it runs (what the summary table and results.json name it by). */
function runSummaryBase(run: PlannedRun, folder: RunFolder): RunSummaryBase {
  const { plugins } = run;
  return {
    id: run.id,
    dir: folder.dir,
    wrapper: plugins.wrapper.plugin.name,
    dataset: plugins.dataset.plugin.name,
    model: String(plugins.backbone.options.path ?? plugins.backbone.plugin.name),
    seed: run.spec.seed,
  };
}

/** A complete run is not run again (without --force): its summary comes from its results.json. */
async function skipCompleteRun(folder: RunFolder, summaryBase: RunSummaryBase, log: Logger): Promise<RunSummary> {
  const results = JSON.parse(await fs.readFile(folder.file(RUN_FILES.results), 'utf8'));
  log.info(`  complete already (${folder.dir}); skipped. Pass --force to run it again.`);
  return { ...summaryBase, metrics: results.metrics, skipped: true };
}

/**
 * Loads the backbone, the dataset's splits and the wrapper, attaches the wrapper (and a given
 * adapter) and picks the evaluation engine and the training plan. Everything that can fail on bad
 * input happens here, before the run folder exists, so a bad run leaves no folder behind.
 */
async function setUpRun(session: RunSession, run: PlannedRun, specDir: string, models: RunModels, log: Logger): Promise<RunSetup> {
  let spec = run.spec;
  const backbone = (models.backbone = await session.loadBackbone());
  const dataset: Dataset = session.container.resolve(TOKENS.Dataset);
  if (dataset.kind !== 'mcq') throw new UserError(`dataset '${dataset.name}' is open-ended; this runner evaluates multiple-choice datasets only so far`);
  const wrapper = (models.wrapper = session.container.resolve(TOKENS.Wrapper));
  if (wrapper.trainingFree && spec.train.steps > 0) {
    log.warn(`${wrapper.name} is training-free: train.steps ${spec.train.steps} is ignored (set train.steps: 0 to silence this)`);
    spec = { ...spec, train: { ...spec.train, steps: 0 } };
  }
  const train: McqExample[] = spec.train.steps > 0 ? await dataset.load('train') : [];
  const test = await dataset.load('test');
  const anchor: McqExample[] = wrapper.calibrate ? await dataset.load('anchor') : [];
  const targetIds = targetTokenIds(backbone.tokenizer, dataset.labels);
  wrapper.attach(backbone);
  if (spec.adapter) await wrapper.load(await resolveAdapterDir(spec.adapter, { specDir, hub: specHubChoices(spec, specDir), log }));

  const evalEngine = selectEvalEngine(spec.eval.engine, backbone);
  log.info(`  evaluation engine: ${evalEngine.engine} (${evalEngine.why})`);

  const plan = trainingPlan(spec, train.length);
  if (spec.train.steps > 0) wrapper.prepare(plan);
  return { spec, backbone, wrapper, train, test, anchor, targetIds, evalEngine, plan };
}

/** The arguments every evaluation of the run shares (intermediate and final). */
function evalArguments(setup: RunSetup, progress: Progress): EvalArgs {
  const { spec } = setup;
  return {
    wrapper: setup.wrapper,
    backbone: setup.backbone,
    targetIds: setup.targetIds,
    batchSize: spec.eval.batchSize ?? spec.train.batchSize,
    maxSeqLen: spec.train.maxSeqLen,
    bins: spec.eval.bins,
    dropLast: spec.eval.dropLast,
    progress,
  };
}

/**
 * Resume: an interrupted run continues from its last checkpoint (unless `force`); otherwise its
 * folder is emptied for a fresh start. Returns the step training starts from.
 */
async function resumeOrStartFolder(state: RunState, force: boolean): Promise<number> {
  const { folder } = state;
  const resumeStep = force ? 0 : await resumeFromCheckpoint(state.wrapper, state.rng, folder, state.spec.train.steps, state.log);
  if (resumeStep === 0) {
    await fs.mkdir(folder.dir, { recursive: true });
    await folder.reset();
  }
  await folder.setState('running');
  return resumeStep;
}

/** The run folder's record of what ran where: the resolved spec, and env.json (versions, backend, engine). */
async function writeRunRecord(state: RunState, backend: BackendChoice, searchPaths: string[]): Promise<void> {
  const { run, folder } = state;
  const { plugins } = run;
  await folder.writeText(RUN_FILES.spec, resolvedSpecYaml(run));
  const env = await environmentInfo({
    backend: backend.name,
    backendReasons: backend.reasons,
    seed: state.spec.seed,
    packages: ['@bayes-peft/core', '@bayes-peft/tensor', ...new Set([plugins.backbone, plugins.dataset, plugins.wrapper].map((p) => p.plugin.packageName ?? p.ref))],
    searchPaths,
  });
  await folder.writeJson(RUN_FILES.env, { ...env, evalEngine: state.evalEngine, run: run.id, assignment: run.assignment });
}

/**
 * Train: the training loop from `startStep`, logging to metrics.jsonl, evaluating on the test
 * split every eval.every steps and checkpointing, so a stopped run can resume.
 */
async function trainPhase(state: RunState, startStep: number, signal: AbortSignal | undefined): Promise<void> {
  const { spec, plan, train, test, folder, log, wrapper, rng } = state;
  if (spec.train.steps > 0) {
    log.info(`  training: ${plan.totalSteps} steps of ${plan.batchSize} (${train.length} examples, ${plan.stepsPerEpoch} steps/epoch), test: ${test.length} examples`);
  }
  await trainLoop({
    wrapper,
    backbone: state.backbone,
    examples: train,
    targetIds: state.targetIds,
    spec,
    plan,
    rng: rng.child('data-order'),
    progress: state.evalArgs.progress,
    startStep,
    signal,
    hooks: {
      onLog: (step, epoch, result) => folder.appendJsonl(RUN_FILES.metrics, { phase: 'train', step, epoch, ...result }),
      onEval: async (step) => {
        const { metrics } = await evaluateMcq({ ...state.evalArgs, examples: test, phase: 'intermediate' });
        await folder.appendJsonl(RUN_FILES.metrics, { phase: 'eval', step, ...metrics });
        log.info(`  step ${step}: ${formatMetrics(metrics)}`);
      },
      onCheckpoint: (step) => saveCheckpoint(wrapper, rng, folder, step),
    },
  });
}

/**
 * Calibrate: wrappers that fit something on held-out data (TFB's noise scale) do it on the
 * anchor split before the final evaluation; its log goes to metrics.jsonl. Null for the others.
 */
async function calibratePhase(state: RunState): Promise<CalibrationResult | null> {
  const { spec, folder } = state;
  const calibration = await calibrateWrapper({
    wrapper: state.wrapper,
    backbone: state.backbone,
    examples: state.anchor,
    targetIds: state.targetIds,
    batchSize: state.evalArgs.batchSize,
    maxSeqLen: spec.train.maxSeqLen,
  });
  if (calibration) {
    for (const [index, entry] of calibration.log.entries()) {
      await folder.appendJsonl(RUN_FILES.metrics, { phase: 'calibrate', step: spec.train.steps, index, ...entry });
    }
    await folder.appendJsonl(RUN_FILES.metrics, { phase: 'calibrated', step: spec.train.steps, ...calibration.summary });
  }
  return calibration;
}

/** Evaluate: the final, weight-sampled evaluation on the test split; its metrics and every prediction are written. */
async function evaluatePhase(state: RunState): Promise<Metrics> {
  const { folder } = state;
  const { records, metrics } = await evaluateMcq({ ...state.evalArgs, examples: state.test, phase: 'final' });
  await folder.appendJsonl(RUN_FILES.metrics, { phase: 'final', step: state.spec.train.steps, ...metrics });
  await folder.writeJsonl(RUN_FILES.predictions, records.map(predictionRow));
  return metrics;
}

/** Write: results.json, then the folder is marked complete (what a later run skips on). */
async function writeResults(state: RunState, summaryBase: RunSummaryBase, metrics: Metrics, calibration: CalibrationResult | null, t0: number): Promise<void> {
  const { run, folder } = state;
  const results = {
    ...summaryBase,
    dir: undefined,
    run: run.id,
    metrics,
    steps: state.spec.train.steps,
    ...(calibration ? { calibration: calibration.summary } : {}),
    elapsedSeconds: (Date.now() - t0) / 1000,
    assignment: run.assignment,
  };
  await folder.writeJson(RUN_FILES.results, results);
  await folder.setState('complete');
  state.log.info(`  ${formatMetrics(metrics)}  -> ${folder.dir}`);
}

/** A run that threw after its folder existed is marked there, interrupted (resumable) or failed, with the error. */
async function markStopped(folder: RunFolder, e: unknown): Promise<void> {
  if (await fs.access(folder.dir).then(() => true, () => false)) {
    await folder.setState(e instanceof RunInterruptedError ? 'interrupted' : 'failed', { error: (e as Error).message });
  }
}

/**
 * Writes a checkpoint (adapter, optimizer state, random streams: see writeCheckpoint) into a
 * fresh folder, then swaps it in, so adapter/ is always one whole checkpoint.
 */
async function saveCheckpoint(wrapper: Wrapper, rng: Rng, folder: RunFolder, step: number): Promise<void> {
  const tmp = `${folder.adapterDir}.tmp`;
  const old = `${folder.adapterDir}.old`;
  await fs.rm(tmp, { recursive: true, force: true });
  await writeCheckpoint(tmp, wrapper, rng, step);
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(folder.adapterDir, old).catch(() => undefined);
  await fs.rename(tmp, folder.adapterDir);
  await fs.rm(old, { recursive: true, force: true });
}

/**
 * Continues an interrupted run from its last checkpoint when the wrapper can restore its
 * optimizers and the checkpoint holds the random streams' state; returns the step to start from
 * (0: start over).
 */
async function resumeFromCheckpoint(wrapper: Wrapper, rng: Rng, folder: RunFolder, totalSteps: number, log: Logger): Promise<number> {
  const checkpoint = await readCheckpoint(folder.adapterDir);
  if (!checkpoint) return 0;
  const step = checkpoint.step;
  if (!(step > 0 && step < totalSteps)) {
    if (step > 0) log.info(`  an earlier attempt stopped at step ${step}; it cannot be resumed here, starting over`);
    return 0;
  }
  const why = unresumableReason(checkpoint, wrapper);
  if (why) {
    log.info(`  an earlier attempt stopped at step ${step}; its checkpoint cannot be resumed (${why}), starting over`);
    return 0;
  }
  await restoreCheckpoint(folder.adapterDir, wrapper, rng, checkpoint);
  // Keep the log of the steps the checkpoint covers; later lines belong to the lost attempt.
  const metricsFile = folder.file(RUN_FILES.metrics);
  const lines = await fs.readFile(metricsFile, 'utf8').then((t) => t.split('\n').filter(Boolean), () => []);
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  await folder.writeText(RUN_FILES.metrics, kept.map((l) => `${l}\n`).join(''));
  log.info(`  resuming from the checkpoint at step ${step} of ${totalSteps}`);
  return step;
}

function resolvedSpecYaml(run: PlannedRun): string {
  const spec = {
    ...run.spec,
    model: { plugin: run.spec.model.plugin, options: run.plugins.backbone.options },
    dataset: { plugin: run.spec.dataset.plugin, options: run.plugins.dataset.options },
    wrapper: { plugin: run.spec.wrapper.plugin, options: run.plugins.wrapper.options },
  };
  const header = Object.keys(run.assignment).length ? `# matrix run: ${JSON.stringify(run.assignment)}\n` : '';
  return header + stringify(spec);
}

export function formatMetrics(m: Metrics): string {
  return ['acc', 'ece', 'nll', 'brier']
    .filter((k) => k in m)
    .map((k) => `${k} ${m[k].toFixed(4)}`)
    .join('  ');
}
