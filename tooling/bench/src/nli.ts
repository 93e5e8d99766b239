// The NLI line: pairs per second of the NLI scorer (@bayes-peft/scorer-nli) on
// ../shared/models/tiny-nli, batch 1 and batch 32, run in the parent after the models (the model
// is 0.8 MB; its peak RSS says nothing).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '@bayes-peft/core';
import { sharedCandidate } from '@bayes-peft/fixtures';
import { onnxRuntimeUnavailable, ortThreads } from '@bayes-peft/onnx';
import { createNliJudge, NliOptions, releaseIdleNliModels, type NliPair } from '@bayes-peft/scorer-nli';

export const NLI_BATCHES = [1, 32] as const;
/** Distinct pairs per timed call: enough for 8 batches of 32. */
const PAIRS = 256;
const REPEATS = 3;

export interface NliLine {
  readonly model: 'tiny-nli';
  readonly line: 'nli';
  readonly batch: number;
  /** Distinct (premise, hypothesis) pairs per timed `entailment` call (tokenizing, the graph, softmax). */
  readonly pairs: number;
  /** Median of the timed calls. */
  readonly nli_pairs_per_s: number;
  readonly ms_per_pair: number;
  readonly threads: number;
}

/**
 * Distinct ordered pairs of golden.json's texts (answers such as 'Paris', 'The answer is Paris.',
 * 'Mount Everest'): short answers, as a run's NLI scorer sees them.
 */
export function benchPairs(dir: string, count: number): NliPair[] {
  const golden = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { pairs: NliPair[] };
  const texts = [...new Set(golden.pairs.flatMap((p) => [p.premise, p.hypothesis]))];
  const out: NliPair[] = [];
  for (const premise of texts) for (const hypothesis of texts) if (premise !== hypothesis && out.length < count) out.push({ premise, hypothesis });
  return out;
}

/** Times the scorer's `entailment` (what semantic clustering calls) at each batch size: one untimed call, then the median of REPEATS. */
export async function benchNli(dir: string, batches: readonly number[] = NLI_BATCHES): Promise<NliLine[]> {
  const pairs = benchPairs(dir, PAIRS);
  const out: NliLine[] = [];
  for (const batch of batches) {
    const judge = createNliJudge({ specDir: process.cwd(), hub: { offline: true }, log: silentLogger }, NliOptions.parse({ model: dir, batchSize: batch }));
    try {
      await judge.entailment(pairs);
      const times: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = process.hrtime.bigint();
        await judge.entailment(pairs);
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      const s = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
      out.push({ model: 'tiny-nli', line: 'nli', batch, pairs: pairs.length, nli_pairs_per_s: pairs.length / s, ms_per_pair: (1000 * s) / pairs.length, threads: ortThreads() });
    } finally {
      await judge.dispose();
    }
  }
  await releaseIdleNliModels();
  return out;
}

export function formatNliTable(lines: readonly NliLine[]): string {
  const rows = lines.map((l) => [l.model, String(l.batch), l.nli_pairs_per_s.toFixed(0), l.ms_per_pair.toFixed(3), String(l.threads)]);
  const header = ['NLI model', 'batch', 'pairs/s', 'ms/pair', 'ort threads'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

/**
 * `pnpm bench`'s NLI line: JSON lines (--json) or a table on stdout; skipped with one line on
 * stderr when the shared folder or onnxruntime-node is missing. Never throws: a failure is a line
 * on stderr and `false` (the bench then exits 1, as for a model).
 */
export async function printNliBench(json: boolean, err: (line: string) => void): Promise<boolean> {
  const dir = path.join(sharedCandidate(), 'models', 'tiny-nli');
  if (!existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    err(`skipping the NLI line: ${dir} not found (set BAYES_PEFT_SHARED to the folder holding models/tiny-nli)`);
    return true;
  }
  const ort = onnxRuntimeUnavailable();
  if (ort) {
    err(`skipping the NLI line: ${ort}`);
    return true;
  }
  err(`tiny-nli: NLI pairs per second, batch ${NLI_BATCHES.join(' and ')}`);
  try {
    const lines = await benchNli(dir);
    process.stdout.write(json ? lines.map((l) => `${JSON.stringify(l)}\n`).join('') : `\n${formatNliTable(lines)}`);
    return true;
  } catch (e) {
    err(`bench: the NLI line failed: ${(e as Error).stack ?? e}`);
    return false;
  }
}
