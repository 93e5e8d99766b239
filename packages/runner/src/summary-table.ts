import type { RunSummary } from './experiment';

type Columns = readonly (readonly [header: string, key: string])[];

const MCQ_COLUMNS: Columns = [
  ['ACC', 'acc'],
  ['ECE', 'ece'],
  ['NLL', 'nll'],
  ['Brier', 'brier'],
];

/** Open-ended runs: the reference's four, the entropy of the correctness fraction, and how well the headline uncertainty score ranks wrong answers first. */
const OPEN_COLUMNS: Columns = [
  ['ACC', 'acc'],
  ['ECE', 'ece'],
  ['Brier', 'brier'],
  ['NLL', 'nll'],
  ['Entropy', 'entropy'],
  ['AUROC', 'auroc'],
  ['PRR', 'prr'],
];

/** Open-ended runs with a comparer: the mean likelihood-weighted semantic entropy and how well it ranks wrong answers first. */
const SEMANTIC_COLUMNS: Columns = [
  ['SE', 'semantic_entropy'],
  ['AUROC(SE)', 'auroc_semantic_entropy'],
];

/** Whether a run's metrics are open-ended ones (they rank answers: `auroc`). */
function isOpen(run: RunSummary): boolean {
  return 'auroc' in run.metrics;
}

/**
 * One row per (wrapper, dataset): the metric, or mean ± std over seeds when several runs share
 * the row, as papers report them. Multiple-choice and open-ended runs get a table each (their
 * metrics differ); the open-ended one ends with what its AUROC and PRR rank by.
 */
export function summaryTable(runs: readonly RunSummary[]): string {
  const mcq = runs.filter((r) => !isOpen(r));
  const open = runs.filter(isOpen);
  const tables: string[] = [];
  if (mcq.length) tables.push(table(mcq, MCQ_COLUMNS));
  if (open.length) {
    // The semantic columns only when some run clustered its answers (a string-match table stays as it was).
    const semantic = open.some((r) => 'semantic_entropy' in r.metrics);
    const notes = [
      'AUROC, PRR: how well the length-normalised sequence entropy of the sampled answers ranks wrong answers above right ones (results.json has every score\'s).',
      ...(semantic ? ['SE: mean semantic entropy (answers clustered by meaning, likelihood-weighted); AUROC(SE): how well it ranks wrong answers first.'] : []),
    ];
    tables.push(`${table(open, semantic ? [...OPEN_COLUMNS, ...SEMANTIC_COLUMNS] : OPEN_COLUMNS)}\n${notes.join('\n')}`);
  }
  return tables.join('\n\n');
}

function table(runs: readonly RunSummary[], columns: Columns): string {
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = `${r.wrapper}\u0000${r.dataset}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const header = ['method', 'dataset', 'runs', ...columns.map(([h]) => h)];
  const rows = [...groups.values()].map((g) => [
    g[0].wrapper,
    g[0].dataset,
    String(g.length),
    ...columns.map(([, k]) => cell(g.map((r) => r.metrics[k]))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * A metric over a row's runs. NaN (an AUROC with nothing to rank: every answer right, or every
 * one wrong) and a null read back from results.json are left out of the mean and counted, so a
 * mean never averages in a made-up value.
 */
function cell(raw: readonly (number | null | undefined)[]): string {
  const values = raw.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
  const missing = raw.length - values.length;
  if (values.length === 0) return 'n/a';
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const note = missing > 0 ? ` (${missing} n/a)` : '';
  if (values.length === 1) return `${mean.toFixed(4)}${note}`;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return `${mean.toFixed(4)} ± ${std.toFixed(4)}${note}`;
}
