import type { RunSummary } from './experiment';

const ID_COLUMNS = ['id', 'wrapper', 'dataset', 'model', 'seed'] as const;

/**
 * One CSV row per run (RFC 4180: comma-separated, fields with a comma, quote or line break
 * quoted): id, wrapper, dataset, model, seed, then every metric key any run has, in the order
 * they first appear. A metric a run lacks, or NaN (written to results.json as null), is an empty
 * field, never a made-up number.
 */
export function resultsCsv(runs: readonly RunSummary[]): string {
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const rows: string[][] = [[...ID_COLUMNS, ...metricKeys]];
  for (const r of runs) {
    rows.push([r.id, r.wrapper, r.dataset, r.model, String(r.seed), ...metricKeys.map((k) => numberField(r.metrics[k]))]);
  }
  return rows.map((row) => row.map(quote).join(',')).join('\n') + '\n';
}

function numberField(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
