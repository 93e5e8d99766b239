import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ATOMIC_TEMP_FILE, initBackend, type BackendChoice } from '@bayes-peft/tensor';
import { stringify } from 'yaml';
import type { Backbone, CalibrationResult, Dataset, Metrics, TrainingPlan, Wrapper } from '@bayes-peft/core';
import { RunInterruptedError, SpecError, UserError, type SpecIssue } from '@bayes-peft/core';
import { consoleLogger, type Logger } from '@bayes-peft/core';
import type { PluginKind } from '@bayes-peft/core';
import { PluginRegistry, type BuiltinPlugins, type ResolvedPlugin } from './registry';
import { Rng } from '@bayes-peft/core';
import type { HubChoices, RunContext } from '@bayes-peft/core';
import { loadSpecFile, toSpecIssue, type LoadedSpec, type ResolvedRun } from './spec/load';
import type { PluginRef, RunSpec } from './spec/schema';
import { resolveAdapterDir } from './adapter-source';
import { calibrateWrapper } from './calibrate';
import { readCheckpoint, recoverCheckpoint, restoreCheckpoint, saveCheckpoint, unresumableReason } from './checkpoint';
import { environmentInfo } from './env-info';
import { selectEvalEngine, type EvalEngineDecision } from './eval-engine';
import { Progress } from './progress';
import { RUN_FILES, RunFolder } from './run-folder';
import { acquireRunLock, describeHolder, RUN_LOCK_FILE, type RunLockOptions } from './run-lock';
import { isPartialSelection, selectRuns, type RunSelection } from './run-select';
import { createRunSession, type RunSession } from './run-session';
import { generationFingerprint } from './open-task';
import { mcqTask, openTask, type RunTask } from './run-task';
import { chooseComparer } from './semantic-comparer';
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
  /** Run only these runs of the plan (one by id or index, or a shard): see selectRuns. */
  readonly select?: RunSelection;
  /** A run another process holds the lock of is waited for (polling) instead of skipped. */
  readonly wait?: boolean;
  /** The run lock's heartbeat interval and stale age (defaults: BAYES_PEFT_LOCK_HEARTBEAT_MS, BAYES_PEFT_LOCK_STALE_MS). */
  readonly lock?: RunLockOptions;
}

export interface RunPlugins {
  readonly backbone: ResolvedPlugin & { options: Record<string, unknown> };
  readonly dataset: ResolvedPlugin & { options: Record<string, unknown> };
  readonly wrapper: ResolvedPlugin & { options: Record<string, unknown> };
  /** The judge of open-ended answers (the spec's `scorer`); resolved for every run, used by open-ended ones. */
  readonly judge: ResolvedPlugin & { options: Record<string, unknown> };
  /** The spec's `semantic.comparer` when it names a plugin (not 'scorer' or 'none'). */
  readonly comparer?: ResolvedPlugin & { options: Record<string, unknown> };
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
  /**
   * Why the run was not run now: 'complete' (results from an earlier run), 'locked' (another
   * process holds its lock: running elsewhere; metrics empty); false when it ran.
   */
  readonly skipped: false | 'complete' | 'locked';
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
    const { comparer } = run.spec.semantic;
    const plugins: RunPlugins = {
      backbone: resolveWithOptions(registry, loaded, run.spec.model, 'backbone', ['model']),
      dataset: resolveWithOptions(registry, loaded, run.spec.dataset, 'dataset', ['dataset']),
      wrapper: resolveWithOptions(registry, loaded, run.spec.wrapper, 'wrapper', ['wrapper']),
      judge: resolveWithOptions(registry, loaded, run.spec.scorer, 'judge', ['scorer']),
      ...(typeof comparer === 'object' ? { comparer: resolveWithOptions(registry, loaded, comparer, 'judge', ['semantic', 'comparer']) } : {}),
    };
    checkTaskOptions(loaded, run, plugins.dataset.plugin);
    let id = `${plugins.wrapper.plugin.name}-${datasetLabel(plugins.dataset)}-seed${run.spec.seed}`;
    const n = ids.get(id) ?? 0;
    ids.set(id, n + 1);
    if (n > 0) id = `${id}-${n + 1}`;
    planned.push({ ...run, id, plugins });
  }
  checkOpenOnlySections(loaded, planned);
  return { loaded, runs: planned };
}

/** Spec options that mean something for multiple-choice datasets only, with what to use instead. */
const MCQ_ONLY_OPTIONS: readonly { path: [string, string]; instead: string }[] = [
  { path: ['eval', 'bins'], instead: 'generation.bins sets the ECE bins of open-ended metrics' },
  { path: ['eval', 'dropLast'], instead: 'every question of an open-ended test split is evaluated' },
];

/** An open-ended run with an option that only multiple-choice evaluation reads is refused, naming the option. */
function checkTaskOptions(loaded: LoadedSpec, run: ResolvedRun, dataset: ResolvedPlugin['plugin']): void {
  if (dataset.kind !== 'dataset' || dataset.task !== 'open') return;
  const issues: SpecIssue[] = [];
  for (const { path: [section, key], instead } of MCQ_ONLY_OPTIONS) {
    const raw = run.raw[section];
    if (raw && typeof raw === 'object' && key in raw) {
      issues.push({ path: `${section}.${key}`, message: `applies to multiple-choice datasets only; '${dataset.name}' is open-ended (${instead})`, line: loaded.lineOf([section, key]) });
    }
  }
  if (issues.length) throw new SpecError(loaded.file, issues);
}

/** `generation:`, `scorer:` or `semantic:` in a spec none of whose runs is open-ended would do nothing: refused. */
function checkOpenOnlySections(loaded: LoadedSpec, runs: readonly PlannedRun[]): void {
  if (runs.some((r) => r.plugins.dataset.plugin.kind === 'dataset' && r.plugins.dataset.plugin.task === 'open')) return;
  const issues: SpecIssue[] = [];
  for (const section of ['generation', 'scorer', 'semantic'] as const) {
    if (runs.some((r) => section in r.raw)) {
      issues.push({ path: section, message: `applies to open-ended datasets only; this spec's datasets are multiple-choice`, line: loaded.lineOf([section]) });
    }
  }
  if (issues.length) throw new SpecError(loaded.file, issues);
}

/** The dataset's plugin name, plus its configuration (subset, size, group) when it has one. */
export function datasetLabel(dataset: { plugin: { name: string }; options: Record<string, unknown> }): string {
  for (const key of ['subset', 'size', 'group', 'config']) {
    const v = dataset.options[key];
    if (typeof v === 'string' && v) return `${dataset.plugin.name}-${v.replace(/[^\w.-]+/g, '_')}`;
  }
  return dataset.plugin.name;
}

/** A plugin reference at `yamlPath` of the spec, resolved and its options parsed by the plugin's schema (errors name the path and line). */
function resolveWithOptions(registry: PluginRegistry, loaded: LoadedSpec, ref: PluginRef, kind: PluginKind, yamlPath: readonly string[]) {
  let resolved: ResolvedPlugin;
  try {
    resolved = registry.resolve(kind, ref.plugin, loaded.dir);
  } catch (e) {
    if (e instanceof UserError) {
      throw new SpecError(loaded.file, [{ path: [...yamlPath, 'plugin'].join('.'), message: e.message, line: loaded.lineOf([...yamlPath, 'plugin']) ?? loaded.lineOf([...yamlPath]) }]);
    }
    throw e;
  }
  const parsed = resolved.plugin.options.safeParse(ref.options);
  if (!parsed.success) {
    const issues: SpecIssue[] = parsed.error.issues.map((issue) => toSpecIssue(issue, ref.options, loaded.lineOf, [...yamlPath, 'options']));
    throw new SpecError(loaded.file, issues);
  }
  return { ...resolved, options: parsed.data as Record<string, unknown> };
}

/** A run's folder: `<output>/<spec name>/<run id>`, `output` relative to the working directory. */
export function runDir(run: PlannedRun): string {
  return path.resolve(run.spec.output, run.spec.name, run.id);
}

/**
 * Runs the runs of a spec (every one, or those `select` picks) in plan order; complete runs are
 * skipped unless `force`.
 */
export async function runExperiment(specFile: string, options: ExperimentOptions = {}): Promise<RunSummary[]> {
  const log = options.log ?? consoleLogger;
  const { loaded, runs } = await planExperiment(specFile, options);
  const selected = selectRuns(runs, options.select);
  const summaries: RunSummary[] = [];
  const plural = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  log.info(`${loaded.file}: ${plural(runs.length)}${isPartialSelection(options.select) ? `, ${selected.length} selected` : ''}`);
  for (const [i, { index, run }] of selected.entries()) {
    // The plan index too when it differs from the position: what --index and a scheduler's task name it by.
    log.info(`[${i + 1}/${selected.length}] ${run.id}${selected.length < runs.length ? ` (run index ${index})` : ''}`);
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
 * One run of a spec, as a sequence of phases: skip it when complete, take its lock (or skip it
 * when another process holds it), set it up (everything that can fail on bad input, before the
 * run folder holds anything but its lock), resume or start the folder, train,
 * calibrate, evaluate, write the results. A failure marks the folder failed (or interrupted);
 * the models and the container are freed either way.
 */
async function executeRun(loaded: LoadedSpec, run: PlannedRun, options: ExperimentOptions & { log: Logger }): Promise<RunSummary> {
  const { log } = options;
  const folder = new RunFolder(runDir(run));
  const summaryBase = runSummaryBase(run, folder);
  if (!options.force && (await folder.isComplete())) return skipCompleteRun(folder, summaryBase, log);

  // Only the holder of the folder's run.lock writes in it (run-lock.ts): another process on the
  // same run is skipped, or waited for. A lock lost to another process stops the run.
  const lost = new AbortController();
  const claim = await acquireRunLock(folder.dir, { ...options.lock, wait: options.wait, signal: options.signal, log, onLost: () => lost.abort() });
  if (!claim.lock) {
    log.info(`  running elsewhere (${describeHolder(claim.holder)}); skipped`);
    return { ...summaryBase, metrics: {}, skipped: 'locked' };
  }
  try {
    // The run may have been finished by the holder this process waited for (or raced with).
    if (!options.force && (await folder.isComplete())) return await skipCompleteRun(folder, summaryBase, log);
    const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
    return await executeLockedRun(loaded, run, folder, summaryBase, { ...options, signal });
  } finally {
    await claim.lock.release();
    // A run that failed before writing anything leaves no folder behind (only its lock was there).
    await fs.rmdir(folder.dir).catch(() => undefined);
  }
}

/** executeRun's work once the run's lock is held. */
async function executeLockedRun(loaded: LoadedSpec, run: PlannedRun, folder: RunFolder, summaryBase: RunSummaryBase, options: ExperimentOptions & { log: Logger }): Promise<RunSummary> {
  const { log } = options;
  const backend = await initBackend(run.spec.backend, log);
  const rng = new Rng(run.spec.seed);
  const ctx: RunContext = { seed: run.spec.seed, rng, log, specDir: loaded.dir, hub: specHubChoices(run.spec, loaded.dir) };
  const session = createRunSession({ context: ctx, lora: run.spec.lora, ...run.plugins });
  const models: RunModels = {};
  const progress = new Progress(log, options.progress === false ? false : undefined);
  const t0 = Date.now();
  try {
    const setup = await setUpRun(session, run, loaded.dir, models, rng, log, progress);
    const state: RunState = { ...setup, run, folder, rng, log, progress };
    const startStep = await resumeOrStartFolder(state, options.force === true);
    await writeRunRecord(state, backend, loaded.dir, [loaded.dir, process.cwd(), ...(options.searchPaths ?? [])]);
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
    await models.task?.close();
    models.wrapper?.dispose();
    models.backbone?.dispose();
    session.close();
  }
}

/** The loaded models of a run, kept where executeRun's `finally` can free them whatever failed. */
interface RunModels {
  backbone?: Backbone;
  wrapper?: Wrapper;
  task?: RunTask;
}

/** What setUpRun makes: the run's models, its data splits and the choices that follow from them. */
interface RunSetup {
  /** The run's spec, with train.steps 0 for a training-free wrapper. */
  readonly spec: RunSpec;
  readonly backbone: Backbone;
  readonly wrapper: Wrapper;
  /** The dataset's examples by role and what the run does with them (multiple-choice or open-ended). */
  readonly task: RunTask;
  readonly evalEngine: EvalEngineDecision;
  readonly plan: TrainingPlan;
}

/** Everything the phases after setUpRun share. */
interface RunState extends RunSetup {
  readonly run: PlannedRun;
  readonly folder: RunFolder;
  readonly rng: Rng;
  readonly log: Logger;
  readonly progress: Progress;
}
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
  return { ...summaryBase, metrics: results.metrics, skipped: 'complete' };
}

/**
 * Loads the backbone, the dataset's splits and the wrapper, attaches the wrapper (and a given
 * adapter) and picks the evaluation engine and the training plan. Everything that can fail on bad
 * input happens here, before the run folder exists, so a bad run leaves no folder behind.
 */
async function setUpRun(session: RunSession, run: PlannedRun, specDir: string, models: RunModels, rng: Rng, log: Logger, progress: Progress): Promise<RunSetup> {
  let spec = run.spec;
  const backbone = (models.backbone = await session.loadBackbone());
  const dataset: Dataset = session.dataset();
  const declared = run.plugins.dataset.plugin.kind === 'dataset' ? run.plugins.dataset.plugin.task : undefined;
  if (declared !== dataset.kind) {
    throw new UserError(`dataset plugin '${run.plugins.dataset.plugin.name}' declares task '${declared}' but made a '${dataset.kind}' dataset; its defineDataset({ task }) must say what create() makes`);
  }
  const wrapper = (models.wrapper = session.wrapper());
  if (wrapper.trainingFree && spec.train.steps > 0) {
    log.warn(`${wrapper.name} is training-free: train.steps ${spec.train.steps} is ignored (set train.steps: 0 to silence this)`);
    spec = { ...spec, train: { ...spec.train, steps: 0 } };
  }
  const taskArgs = { spec, backbone, wrapper, rng: rng.child('eval'), log, progress, needsTrain: spec.train.steps > 0, needsAnchor: !!wrapper.calibrate };
  const task = (models.task =
    dataset.kind === 'mcq'
      ? await mcqTask(dataset, taskArgs)
      : await openTask(
          dataset,
          session.judge(),
          chooseComparer({ spec: spec.semantic, explicit: 'semantic' in run.raw, scorer: session.judge(), comparer: () => session.comparer(), log }),
          taskArgs,
        ));
  wrapper.attach(backbone);
  if (spec.adapter) await wrapper.load(await resolveAdapterDir(spec.adapter, { specDir, hub: specHubChoices(spec, specDir), log }));

  const evalEngine = selectEvalEngine(spec.eval.engine, backbone);
  log.info(`  evaluation engine: ${evalEngine.engine} (${evalEngine.why})`);

  const plan = trainingPlan(spec, task.train.length);
  if (spec.train.steps > 0) wrapper.prepare(plan);
  return { spec, backbone, wrapper, task, evalEngine, plan };
}

/**
 * Resume: an interrupted run continues from its last checkpoint (unless `force`); otherwise its
 * folder is emptied for a fresh start. Returns the step training starts from.
 */
async function resumeOrStartFolder(state: RunState, force: boolean): Promise<number> {
  const { folder } = state;
  await removeKilledAttemptsTemps(folder);
  const recovered = await recoverCheckpoint(folder.adapterDir);
  if (recovered) state.log.info(`  took ${recovered}`);
  const resumeStep = force ? 0 : await resumeFromCheckpoint(state.wrapper, state.rng, folder, state.spec.train.steps, state.log);
  if (resumeStep === 0) {
    await fs.mkdir(folder.dir, { recursive: true });
    await folder.reset({ generations: force });
  }
  await folder.setState('running');
  return resumeStep;
}

/**
 * The temporary files of atomic writes a killed attempt left (writeFileAtomic's
 * `<file>.<pid>.<time>.tmp`): never read, only in the way. The run lock's own temporary files
 * are left to it.
 */
async function removeKilledAttemptsTemps(folder: RunFolder): Promise<void> {
  const names = await fs.readdir(folder.dir).catch(() => [] as string[]);
  for (const name of names) {
    if (ATOMIC_TEMP_FILE.test(name) && !name.startsWith(RUN_LOCK_FILE)) await fs.rm(folder.file(name), { force: true });
  }
}

/**
 * The run folder's record of what ran where: the resolved spec, and env.json (versions, backend,
 * engine, and the spec's folder, which relative paths in plugin options are read from: `bayes-peft
 * rescore` makes the semantic comparer again from there).
 */
async function writeRunRecord(state: RunState, backend: BackendChoice, specDir: string, searchPaths: string[]): Promise<void> {
  const { run, folder } = state;
  const { plugins } = run;
  await folder.writeText(RUN_FILES.spec, resolvedSpecYaml(run));
  const env = await environmentInfo({
    backend: backend.name,
    backendReasons: backend.reasons,
    seed: state.spec.seed,
    packages: [
      '@bayes-peft/core',
      '@bayes-peft/tensor',
      ...new Set(
        [plugins.backbone, plugins.dataset, plugins.wrapper, ...(state.task.kind === 'open' ? [plugins.judge, ...(plugins.comparer ? [plugins.comparer] : [])] : [])].map(
          (p) => p.plugin.packageName ?? p.ref,
        ),
      ),
    ],
    searchPaths,
  });
  await folder.writeJson(RUN_FILES.env, { ...env, evalEngine: state.evalEngine, run: run.id, assignment: run.assignment, specDir });
}

/**
 * Train: the training loop from `startStep`, logging to metrics.jsonl, evaluating on the test
 * split every eval.every steps and checkpointing, so a stopped run can resume.
 */
async function trainPhase(state: RunState, startStep: number, signal: AbortSignal | undefined): Promise<void> {
  const { spec, plan, task, folder, log, wrapper, rng } = state;
  if (spec.train.steps > 0) {
    log.info(`  training: ${plan.totalSteps} steps of ${plan.batchSize} (${task.train.length} examples, ${plan.stepsPerEpoch} steps/epoch), test: ${task.test.length} ${task.kind === 'open' ? 'questions' : 'examples'}`);
  }
  await trainLoop({
    wrapper,
    backbone: state.backbone,
    examples: task.train,
    makeBatch: (examples) => task.makeBatch(examples),
    spec,
    plan,
    rng: rng.child('data-order'),
    progress: state.progress,
    startStep,
    signal,
    hooks: {
      onLog: (step, epoch, result) => folder.appendJsonl(RUN_FILES.metrics, { phase: 'train', step, epoch, ...result }),
      onEval: async (step) => {
        const metrics = await task.evaluateIntermediate(step);
        await folder.appendJsonl(RUN_FILES.metrics, { phase: 'eval', step, ...metrics });
        log.info(`  step ${step}: ${formatMetrics(metrics)}`);
      },
      onCheckpoint: (step) => saveCheckpoint(folder.adapterDir, wrapper, rng, step),
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
    examples: state.task.anchor,
    makeBatch: (examples) => state.task.makeBatch(examples),
    batchSize: spec.eval.batchSize ?? spec.train.batchSize,
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
  const { folder, run } = state;
  const metrics = await state.task.evaluateFinal(folder, generationFingerprint(resolvedSpecYaml(run, { scoring: false })));
  await folder.appendJsonl(RUN_FILES.metrics, { phase: 'final', step: state.spec.train.steps, ...metrics });
  return metrics;
}

/**
 * Write: results.json, then the folder is marked complete (what a later run skips on).
 * results.json holds only what the spec and seed decide, so a run killed and resumed any number of
 * times writes the same bytes as one that never stopped; the wall time goes to status.json.
 */
async function writeResults(state: RunState, summaryBase: RunSummaryBase, metrics: Metrics, calibration: CalibrationResult | null, t0: number): Promise<void> {
  const { run, folder } = state;
  const results = {
    ...summaryBase,
    dir: undefined,
    run: run.id,
    metrics,
    steps: state.spec.train.steps,
    ...(calibration ? { calibration: calibration.summary } : {}),
    assignment: run.assignment,
  };
  await folder.writeJson(RUN_FILES.results, results);
  await folder.setState('complete', { elapsedSeconds: (Date.now() - t0) / 1000 });
  state.log.info(`  ${formatMetrics(metrics)}  -> ${folder.dir}`);
}

/** A run that threw after its folder was started is marked there, interrupted (resumable) or failed, with the error. */
async function markStopped(folder: RunFolder, e: unknown): Promise<void> {
  // A folder holding only its lock (and the lock's temporary files) was never started: nothing to mark.
  const started = await fs.readdir(folder.dir).then((names) => names.some((n) => !n.startsWith(RUN_LOCK_FILE)), () => false);
  if (started) {
    await folder.setState(e instanceof RunInterruptedError ? 'interrupted' : 'failed', { error: (e as Error).message });
  }
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
  // A checkpoint at the last step is a finished training: a run that failed after it (a scorer,
  // an evaluation) goes straight on to calibration and evaluation.
  if (!(step > 0 && step <= totalSteps)) {
    if (step > 0) log.info(`  an earlier attempt stopped at step ${step}; it cannot be resumed here, starting over`);
    return 0;
  }
  const why = unresumableReason(checkpoint, wrapper);
  if (why) {
    log.info(`  an earlier attempt stopped at step ${step}; its checkpoint cannot be resumed (${why}), starting over`);
    return 0;
  }
  await restoreCheckpoint(folder.adapterDir, wrapper, rng, checkpoint);
  // Keep the log of the training the checkpoint covers; later lines (and a calibration or final
  // evaluation of the lost attempt, logged at the last step) are made again.
  const metricsFile = folder.file(RUN_FILES.metrics);
  const lines = await fs.readFile(metricsFile, 'utf8').then((t) => t.split('\n').filter(Boolean), () => []);
  const kept = lines.filter((l) => {
    try {
      const row = JSON.parse(l) as { step: number; phase?: string };
      return row.step < step || (row.step === step && (row.phase === 'train' || row.phase === 'eval'));
    } catch {
      return false;
    }
  });
  await folder.writeText(RUN_FILES.metrics, kept.map((l) => `${l}\n`).join(''));
  log.info(step === totalSteps ? `  training finished in an earlier attempt (checkpoint at step ${step}); going on from there` : `  resuming from the checkpoint at step ${step} of ${totalSteps}`);
  return step;
}

/**
 * The run's spec with every plugin's options as parsed (defaults filled); `scoring: false` leaves
 * out what only reads the answers (the scorer and the semantic settings), for the fingerprint of
 * the generations.
 */
function resolvedSpecYaml(run: PlannedRun, options: { scoring?: boolean } = {}): string {
  const { scorer: _scorer, semantic, ...rest } = run.spec;
  const comparer = run.plugins.comparer && typeof semantic.comparer === 'object' ? { plugin: semantic.comparer.plugin, options: run.plugins.comparer.options } : semantic.comparer;
  const spec = {
    ...rest,
    model: { plugin: run.spec.model.plugin, options: run.plugins.backbone.options },
    dataset: { plugin: run.spec.dataset.plugin, options: run.plugins.dataset.options },
    wrapper: { plugin: run.spec.wrapper.plugin, options: run.plugins.wrapper.options },
    ...(options.scoring === false
      ? {}
      : {
          scorer: { plugin: run.spec.scorer.plugin, options: run.plugins.judge.options },
          semantic: { ...semantic, comparer },
        }),
  };
  const header = Object.keys(run.assignment).length ? `# matrix run: ${JSON.stringify(run.assignment)}\n` : '';
  return header + stringify(spec);
}

/** The headline metrics of a log line: the MCQ four, or the open-ended table's (with its ranking of wrong answers). */
export function formatMetrics(m: Metrics): string {
  const keys = 'auroc' in m ? ['acc', 'ece', 'brier', 'nll', 'entropy', 'auroc', 'prr'] : ['acc', 'ece', 'nll', 'brier'];
  return keys
    .filter((k) => k in m)
    .map((k) => `${k} ${m[k].toFixed(4)}`)
    .join('  ');
}
