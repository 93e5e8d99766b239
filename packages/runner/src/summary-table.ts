import type { RunSummary } from './experiment';

const COLUMNS = [
  ['ACC', 'acc'],
  ['ECE', 'ece'],
  ['NLL', 'nll'],
  ['Brier', 'brier'],
] as const;

/**
 * One row per (wrapper, dataset): the metric, or mean ± std over seeds when several runs share
 * the row, as papers report them.
 */
export function summaryTable(runs: readonly RunSummary[]): string {
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = `${r.wrapper}\u0000${r.dataset}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const header = ['method', 'dataset', 'runs', ...COLUMNS.map(([h]) => h)];
  const rows = [...groups.values()].map((g) => [
    g[0].wrapper,
    g[0].dataset,
    String(g.length),
    ...COLUMNS.map(([, k]) => cell(g.map((r) => r.metrics[k]))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function cell(values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return mean.toFixed(4);
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return `${mean.toFixed(4)} ± ${std.toFixed(4)}`;
}
