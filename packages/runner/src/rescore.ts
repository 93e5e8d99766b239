import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { Judge, JudgePlugin, Logger, Metrics, RunContext } from '@bayes-peft/core';
import { consoleLogger, Rng, UserError } from '@bayes-peft/core';
import { writeFileAtomic } from '@bayes-peft/tensor';
import { readGenerations, readGenerationsKey, scoreGenerations } from './open-task';
import { Progress } from './progress';
import { PluginRegistry, type BuiltinPlugins } from './registry';
import { RUN_FILES, RunFolder } from './run-folder';
import { chooseComparer } from './semantic-comparer';
import { formatPath } from './spec/load';
import { GenerationSchema, HubSchema, PluginRefSchema, SemanticSchema } from './spec/schema';

export interface RescoreOptions {
  /** The judge plugin: a built-in short name, an npm package or a path. */
  readonly scorer: string;
  /** Its options, validated by its schema; relative paths in them are read from the working directory. */
  readonly scorerOptions?: Record<string, unknown>;
  /** The new results file (default: `results.<scorer>.json` in the run folder); predictions go next to it (predictionsFileFor). */
  readonly out?: string;
  readonly builtinPlugins?: BuiltinPlugins;
  readonly searchPaths?: readonly string[];
  readonly log?: Logger;
  readonly progress?: boolean;
}

export interface RescoreResult {
  readonly resultsFile: string;
  readonly predictionsFile: string;
  readonly metrics: Metrics;
}

/**
 * Scores a finished (or scorer-failed) open-ended run's generations again with another scorer,
 * without the model: generations.jsonl is judged, clustered by meaning per the run's `semantic:`
 * settings (its comparer made again, relative paths from the spec's folder; 'scorer' is the run's
 * own scorer when it can compare, so the clusters stay the run's, else the new scorer when it can),
 * and measured with the run's tie rule and bins. The run's own files are never touched; the new
 * ones are written atomically, results last.
 */
export async function rescoreRun(runDir: string, options: RescoreOptions): Promise<RescoreResult> {
  const log = options.log ?? consoleLogger;
  const folder = new RunFolder(path.resolve(runDir));
  const spec = await readResolvedSpec(folder);
  const questions = await completeGenerations(folder);
  const env = await readJson(folder.file(RUN_FILES.env));
  const specDir = typeof env?.specDir === 'string' ? env.specDir : process.cwd();
  const seed = typeof spec.seed === 'number' ? spec.seed : 1;
  const hub = HubSchema.parse(spec.hub ?? {});
  const context = (dir: string): RunContext => ({
    seed,
    rng: new Rng(seed),
    log,
    specDir: dir,
    hub: { ...hub, cacheDir: hub.cacheDir === undefined ? undefined : path.resolve(specDir, hub.cacheDir) },
  });

  const generation = parseSection(GenerationSchema, spec.generation, 'generation');
  const semantic = parseSection(SemanticSchema, spec.semantic, 'semantic');

  const registry = new PluginRegistry([process.cwd(), ...(options.searchPaths ?? [])], options.builtinPlugins ?? {});
  const scorer = makeJudge(registry, options.scorer, options.scorerOptions ?? {}, '--options', context(process.cwd()));
  const resultsFile = path.resolve(options.out ?? folder.file(`results.${fileSafe(scorer.plugin.name)}.json`));
  const predictionsFile = predictionsFileFor(resultsFile);
  for (const file of [resultsFile, predictionsFile]) {
    if (path.dirname(file) === folder.dir && (Object.values(RUN_FILES) as string[]).includes(path.basename(file))) {
      throw new UserError(`--out: ${file} is one of the run's own files; rescoring writes new ones`);
    }
  }
  const made: Judge[] = [scorer.judge];
  const progress = new Progress(log, options.progress === false ? false : undefined);
  try {
    // Every judge made here is disposed of at the end.
    const track = (judge: Judge) => (made.push(judge), judge);
    const ref = semantic.comparer;
    const comparer = () => {
      if (typeof ref !== 'object') throw new Error('no comparer plugin');
      return track(makeJudge(registry, ref.plugin, ref.options, 'semantic.comparer.options', context(specDir)).judge);
    };
    // 'scorer' is the run's own scorer when it can compare (the clusters stay the run's, whatever
    // judges correctness now), else the new scorer when it can; neither: skipped, said once.
    const runScorer = ref === 'scorer' ? runScorerOf(spec, (r, o) => track(makeJudge(registry, r, o, `${RUN_FILES.spec}: scorer.options`, context(specDir)).judge), log) : undefined;
    const settings = chooseComparer({ spec: semantic, explicit: false, scorer: runScorer?.entailment ? runScorer : scorer.judge, comparer, log });
    const t0 = Date.now();
    const evaluation = await scoreGenerations(questions, { judge: scorer.judge, semantic: settings, generation, log, progress });
    const original = await readJson(folder.file(RUN_FILES.results));
    const identity = original ? pick(original, ['run', 'wrapper', 'dataset', 'model', 'seed', 'steps', 'assignment']) : { run: env?.run ?? path.basename(folder.dir), seed, assignment: env?.assignment };
    await writeFileAtomic(predictionsFile, evaluation.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await writeFileAtomic(
      resultsFile,
      `${JSON.stringify(
        {
          ...identity,
          metrics: evaluation.metrics,
          scorer: { plugin: options.scorer, name: scorer.judge.name, options: scorer.options },
          semantic: settings ? { comparer: settings.comparer.name, strict: settings.strict } : null,
          rescored: { from: RUN_FILES.generations, questions: questions.length, predictions: path.basename(predictionsFile), elapsedSeconds: (Date.now() - t0) / 1000 },
        },
        null,
        2,
      )}\n`,
    );
    return { resultsFile, predictionsFile, metrics: evaluation.metrics };
  } finally {
    progress.close();
    for (const judge of new Set(made)) await judge.dispose?.();
  }
}

/** The judge the run itself scored with (spec.resolved.yaml's `scorer`); undefined, said in the log, when it cannot be made again. */
function runScorerOf(spec: Record<string, unknown>, make: (plugin: string, options: Record<string, unknown>) => Judge, log: Logger): Judge | undefined {
  const ref = PluginRefSchema.safeParse(spec.scorer ?? 'string-match');
  if (!ref.success) return undefined;
  try {
    return make(ref.data.plugin, ref.data.options);
  } catch (e) {
    log.info(`  the run's scorer '${ref.data.plugin}' cannot be made again to compare answers (${(e as Error).message})`);
    return undefined;
  }
}

/** `results.<x>.json` -> `predictions.<x>.jsonl`; any other `<name>.json` -> `<name>.predictions.jsonl`; in the same folder. */
export function predictionsFileFor(resultsFile: string): string {
  const base = path.basename(resultsFile).replace(/\.json$/, '');
  const name = base.startsWith('results.') ? `predictions.${base.slice('results.'.length)}.jsonl` : `${base}.predictions.jsonl`;
  return path.join(path.dirname(resultsFile), name);
}

async function readResolvedSpec(folder: RunFolder): Promise<Record<string, unknown>> {
  const text = await fs.readFile(folder.file(RUN_FILES.spec), 'utf8').catch(() => null);
  if (text === null) throw new UserError(`${folder.dir} is not a run folder (no ${RUN_FILES.spec})`);
  const spec = parse(text) as unknown;
  if (!spec || typeof spec !== 'object') throw new UserError(`${folder.file(RUN_FILES.spec)} is not a run spec`);
  return spec as Record<string, unknown>;
}

/**
 * generations.jsonl with every question: generations.key says how many once generation finished
 * (a run before that marker: its results.json's question count). A run stopped while generating
 * is refused; rerunning its spec finishes the generations first.
 */
async function completeGenerations(folder: RunFolder) {
  const key = await readGenerationsKey(folder);
  if (key === null) throw new UserError(`${folder.dir} has no ${RUN_FILES.generations} (rescore needs an open-ended run)`);
  const questions = await readGenerations(folder);
  const results = await readJson(folder.file(RUN_FILES.results));
  const expected = key.complete ?? (results?.metrics as Metrics | undefined)?.n;
  if (expected === undefined || questions.length !== expected) {
    throw new UserError(
      `${folder.file(RUN_FILES.generations)} holds ${questions.length} questions${expected === undefined ? ' and the run stopped before it finished generating' : ` of ${expected}`}: run its spec again to finish generating, then rescore`,
    );
  }
  return questions;
}

/** A judge plugin made as a run makes it; a relative path (of the plugin or in its options) is read from `ctx.specDir`. */
function makeJudge(registry: PluginRegistry, ref: string, options: Record<string, unknown>, where: string, ctx: RunContext): { plugin: JudgePlugin; options: unknown; judge: Judge } {
  const { plugin } = registry.resolve('judge', ref, ctx.specDir);
  const judgePlugin = plugin as JudgePlugin;
  const parsed = judgePlugin.options.safeParse(options);
  if (!parsed.success) {
    throw new UserError(`${where}: ${parsed.error.issues.map((i) => `${formatPath(i.path as (string | number)[]) || '(options)'}: ${i.message}`).join('; ')}`);
  }
  return { plugin: judgePlugin, options: parsed.data, judge: judgePlugin.create({ run: ctx, options: parsed.data }, parsed.data) };
}

function parseSection<S extends typeof GenerationSchema | typeof SemanticSchema>(schema: S, value: unknown, name: string) {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new UserError(`${RUN_FILES.spec}: ${name}: ${parsed.error.issues.map((i) => `${formatPath(i.path as (string | number)[])} ${i.message}`).join('; ')}`);
  return parsed.data as ReturnType<S['parse']>;
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  return fs.readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

function fileSafe(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}
