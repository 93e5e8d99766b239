import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Backbone, Judge, Logger, Metrics, OpenExample, Rng, Wrapper } from '@bayes-peft/core';
import { generateAnswers, type GeneratedQuestion } from './open-generation';
import { openMetrics, scoreQuestions, type ScoredQuestion } from './open-scoring';
import type { Progress } from './progress';
import { RUN_FILES, type RunFolder } from './run-folder';
import type { GenerationSpec } from './spec/schema';

export interface OpenEvaluationArgs {
  readonly wrapper: Wrapper;
  readonly backbone: Backbone;
  readonly judge: Judge;
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
  return scored(args, questions);
}

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
  return scored(args, questions);
}

async function scored(args: OpenEvaluationArgs, questions: readonly GeneratedQuestion[]): Promise<OpenEvaluation> {
  const { generation } = args;
  const rows = await scoreQuestions(args.judge, questions, { tieRule: generation.tieRule, batchSize: generation.scoreBatchSize, progress: args.progress });
  return { rows, metrics: openMetrics(rows, { tieRule: generation.tieRule, bins: generation.bins }) };
}

/** generations.jsonl rows of an earlier attempt with the same fingerprint (a torn last line is dropped); [] otherwise. */
async function keptGenerations(folder: RunFolder, fingerprint: string, log: Logger): Promise<GeneratedQuestion[]> {
  const key = await fs.readFile(folder.file(RUN_FILES.generationsKey), 'utf8').then((t) => t.trim(), () => null);
  if (key === null) return [];
  if (key !== fingerprint) {
    log.info(`  ${RUN_FILES.generations} of an earlier attempt was made under other settings; generating again`);
    return [];
  }
  const text = await fs.readFile(folder.file(RUN_FILES.generations), 'utf8').catch(() => '');
  const rows: GeneratedQuestion[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as GeneratedQuestion);
    } catch {
      break; // the line being written when the attempt stopped
    }
  }
  return rows;
}

/**
 * The fingerprint of what decides a run's generations: its resolved spec without the scorer.
 * Training and generation are deterministic under the spec's seed, so equal fingerprints mean
 * equal generations.
 */
export function generationFingerprint(resolvedSpecWithoutScorer: string): string {
  return createHash('sha256').update(resolvedSpecWithoutScorer).digest('hex');
}
