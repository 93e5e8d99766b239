import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Backbone, Judge, Logger, Metrics, OpenExample, Rng, Wrapper } from '@bayes-peft/core';
import { generateAnswers, type GeneratedQuestion } from './open-generation';
import { openMetrics, scoreQuestions, type ScoredQuestion } from './open-scoring';
import { clusterQuestions, type SemanticSettings } from './open-semantic';
import type { Progress } from './progress';
import { RUN_FILES, type RunFolder } from './run-folder';
import type { GenerationSpec } from './spec/schema';

export interface OpenEvaluationArgs {
  readonly wrapper: Wrapper;
  readonly backbone: Backbone;
  readonly judge: Judge;
  /** Clustering answers by meaning; none when the run has no comparer (semantic-comparer.ts). */
  readonly semantic?: SemanticSettings;
  readonly examples: readonly OpenExample[];
  readonly generation: GenerationSpec;
  readonly batchSize: number;
  readonly maxSeqLen: number;
  readonly log: Logger;
  readonly progress?: Progress;
}

export interface OpenEvaluation {
  readonly rows: ScoredQuestion[];
  readonly metrics: Metrics;
}

/** An evaluation during training: generate, score, metrics; nothing is written but the metrics line (the caller's). */
export async function evaluateOpenIntermediate(args: OpenEvaluationArgs, rng: Rng): Promise<OpenEvaluation> {
  const questions = await generateAnswers({ ...args, phase: 'intermediate', rng });
  return scoreGenerations(questions, args);
}

/** The second line of generations.key once every question is generated: `complete <questions>`. */
export const GENERATIONS_COMPLETE = 'complete';

/**
 * The final evaluation. Generations go to generations.jsonl batch by batch before anything is
 * scored, under a fingerprint of everything that decides them (generations.key): a run whose
 * scorer fails keeps them, and a rerun of the same spec (the scorer may differ) generates only
 * the questions still missing, then scores all of them. A different fingerprint starts over.
 */
export async function evaluateOpenFinal(args: OpenEvaluationArgs, rng: Rng, folder: RunFolder, fingerprint: string): Promise<OpenEvaluation> {
  const kept = await keptGenerations(folder, fingerprint, args.log);
  const done = new Set(kept.map((q) => q.id));
  if (kept.length === 0) {
    await folder.writeText(RUN_FILES.generations, '');
    await folder.writeText(RUN_FILES.generationsKey, `${fingerprint}\n`);
  } else {
    args.log.info(`  ${kept.length} of ${args.examples.length} questions already generated (${RUN_FILES.generations}); generating the rest`);
  }
  const fresh = await generateAnswers({
    ...args,
    phase: 'final',
    rng,
    done,
    onBatch: async (questions) => {
      for (const q of questions) if (!done.has(q.id)) await folder.appendJsonl(RUN_FILES.generations, q);
    },
  });
  const byId = new Map([...kept, ...fresh.filter((q) => !done.has(q.id))].map((q) => [q.id, q]));
  const questions = args.examples.map((e) => {
    const q = byId.get(e.id);
    if (!q) throw new Error(`question ${e.id} has no generations`);
    return q;
  });
  // Every question is generated: said in the key file, so `bayes-peft rescore` can tell a whole
  // generations.jsonl from one a stopped run left half written.
  await folder.writeText(RUN_FILES.generationsKey, `${fingerprint}\n${GENERATIONS_COMPLETE} ${questions.length}\n`);
  return scoreGenerations(questions, args);
}

/**
 * Judges generated answers, clusters them by meaning when there is a comparer, and computes the
 * metrics: what an evaluation does after generating, and all that `bayes-peft rescore` does.
 */
export async function scoreGenerations(
  questions: readonly GeneratedQuestion[],
  args: { readonly judge: Judge; readonly semantic?: SemanticSettings; readonly generation: GenerationSpec; readonly log?: Logger; readonly progress?: Progress },
): Promise<OpenEvaluation> {
  const { generation } = args;
  const clusters = args.semantic ? await clusterQuestions(questions, args.semantic, { progress: args.progress, log: args.log }) : undefined;
  const rows = await scoreQuestions(args.judge, questions, { tieRule: generation.tieRule, batchSize: generation.scoreBatchSize, clusters, progress: args.progress });
  return { rows, metrics: openMetrics(rows, { tieRule: generation.tieRule, bins: generation.bins }) };
}

/** generations.jsonl rows of an earlier attempt with the same fingerprint (a torn last line is dropped); [] otherwise. */
async function keptGenerations(folder: RunFolder, fingerprint: string, log: Logger): Promise<GeneratedQuestion[]> {
  const key = await readGenerationsKey(folder);
  if (key === null) return [];
  if (key.fingerprint !== fingerprint) {
    log.info(`  ${RUN_FILES.generations} of an earlier attempt was made under other settings; generating again`);
    return [];
  }
  return readGenerations(folder);
}

/** generations.key: the fingerprint, and the number of questions once every one is generated. */
export async function readGenerationsKey(folder: RunFolder): Promise<{ fingerprint: string; complete?: number } | null> {
  const text = await fs.readFile(folder.file(RUN_FILES.generationsKey), 'utf8').catch(() => null);
  if (text === null) return null;
  const [fingerprint, status = ''] = text.split('\n').map((l) => l.trim());
  const m = new RegExp(`^${GENERATIONS_COMPLETE} (\\d+)$`).exec(status);
  return { fingerprint, ...(m ? { complete: Number(m[1]) } : {}) };
}

/** generations.jsonl's rows, up to a torn last line (the one being written when an attempt stopped). */
export async function readGenerations(folder: RunFolder): Promise<GeneratedQuestion[]> {
  const text = await fs.readFile(folder.file(RUN_FILES.generations), 'utf8').catch(() => '');
  const rows: GeneratedQuestion[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as GeneratedQuestion);
    } catch {
      break;
    }
  }
  return rows;
}

/**
 * The fingerprint of what decides a run's generations: its resolved spec without the scorer and
 * the semantic settings (both only read the answers). Training and generation are deterministic
 * under the spec's seed, so equal fingerprints mean equal generations.
 */
export function generationFingerprint(resolvedSpecWithoutScoring: string): string {
  return createHash('sha256').update(resolvedSpecWithoutScoring).digest('hex');
}
