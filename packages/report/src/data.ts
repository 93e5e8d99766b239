/** Pure functions from predictions and results to what the report draws and tabulates. */

export interface ReliabilityBin {
  /** Bin index, 0..bins; bin `bins` holds confidences equal to 1 (torchmetrics' binning). */
  readonly bin: number;
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean confidence and accuracy of the bin's examples (NaN when empty). */
  readonly confidence: number;
  readonly accuracy: number;
}

export interface Reliability {
  readonly bins: ReliabilityBin[];
  /** Expected calibration error: sum over bins of count/N * |accuracy - confidence|. */
  readonly ece: number;
  readonly n: number;
}

/**
 * Reliability bins with the metric's binning (core's expectedCalibrationError): boundaries
 * float32 linspace(0, 1, bins + 1), a confidence c goes to [b_k, b_k+1), c == 1 to a bin of its own.
 * `correct` may be fractional (0.5 for a tie).
 */
export function reliabilityBins(confidence: readonly number[], correct: readonly number[], bins = 15): Reliability {
  const boundaries = Array.from({ length: bins + 1 }, (_, k) => Math.fround(k / bins));
  const count = new Array<number>(bins + 1).fill(0);
  const confSum = new Array<number>(bins + 1).fill(0);
  const accSum = new Array<number>(bins + 1).fill(0);
  for (let i = 0; i < confidence.length; i++) {
    let j = 0;
    while (j < boundaries.length && boundaries[j] <= confidence[i]) j++;
    const bin = Math.max(j, 1) - 1;
    count[bin]++;
    confSum[bin] += confidence[i];
    accSum[bin] += correct[i];
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let k = 0; k <= bins; k++) {
    const c = count[k];
    if (c > 0) ece += (c / confidence.length) * Math.abs(accSum[k] / c - confSum[k] / c);
    out.push({ bin: k, lo: k / bins, hi: k < bins ? (k + 1) / bins : 1, count: c, confidence: c ? confSum[k] / c : NaN, accuracy: c ? accSum[k] / c : NaN });
  }
  return { bins: out, ece, n: confidence.length };
}

/** MCQ rows to (confidence = max prob, correct = argmax is the label), the metric's reading. */
export function mcqConfidence(rows: readonly { label: number; probs: readonly number[] }[]): { confidence: number[]; correct: number[] } {
  const confidence: number[] = [];
  const correct: number[] = [];
  for (const row of rows) {
    let best = 0;
    for (let k = 1; k < row.probs.length; k++) if (row.probs[k] > row.probs[best]) best = k;
    confidence.push(row.probs[best]);
    correct.push(best === row.label ? 1 : 0);
  }
  return { confidence, correct };
}

/** Open-ended rows: the question's confidence is its correct_fraction, the outcome its majority verdict. */
export function openConfidence(rows: readonly { correct_fraction: number; correct: number }[]): { confidence: number[]; correct: number[] } {
  return { confidence: rows.map((r) => r.correct_fraction), correct: rows.map((r) => r.correct) };
}

export interface HistogramBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/** Equal-width bins over [0, 1]; the last bin is closed ([lo, 1]). */
export function histogram(values: readonly number[], bins = 20): HistogramBin[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  return counts.map((count, k) => ({ lo: k / bins, hi: (k + 1) / bins, count }));
}

export interface RiskCoveragePoint {
  /** Share of examples kept. */
  readonly coverage: number;
  /** Accuracy over the kept ones. */
  readonly accuracy: number;
}

/**
 * Accuracy as the least confident examples are rejected: sort by confidence, most confident
 * first (ties keep input order), and for k = 1..N the accuracy of the first k, at coverage k/N.
 */
export function riskCoverage(confidence: readonly number[], correct: readonly number[]): RiskCoveragePoint[] {
  const order = confidence.map((_, i) => i).sort((a, b) => confidence[b] - confidence[a] || a - b);
  const out: RiskCoveragePoint[] = [];
  let sum = 0;
  order.forEach((i, k) => {
    sum += correct[i];
    out.push({ coverage: (k + 1) / order.length, accuracy: sum / (k + 1) });
  });
  return out;
}

/** Mean and sample standard deviation (n - 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Metrics with a better direction: accuracy-like higher, calibration and risk lower. Others (n, entropies, MI, semantic sets) are descriptive and not ranked. */
const HIGHER_BETTER = /^(semantic_)?acc$|^(auroc|auprc|prr)(_|$)/;
const LOWER_BETTER = /^(semantic_)?(ece|nll|brier)$|^aurc(_|$)/;

export function higherIsBetter(metric: string): boolean {
  return HIGHER_BETTER.test(metric);
}

/** 'higher', 'lower' or null for a metric the table does not rank. */
export function metricDirection(metric: string): 'higher' | 'lower' | null {
  return HIGHER_BETTER.test(metric) ? 'higher' : LOWER_BETTER.test(metric) ? 'lower' : null;
}

export interface RunResult {
  readonly wrapper: string;
  readonly dataset: string;
  readonly seed: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface SummaryRow {
  readonly method: string;
  readonly dataset: string;
  /** Complete runs (seeds) averaged. */
  readonly runs: number;
  readonly cells: Record<string, { mean: number; std: number; best: boolean }>;
}

export interface SummaryTable {
  readonly metrics: string[];
  readonly rows: SummaryRow[];
}

/**
 * Mean ± std over seeds of every final metric, per method x dataset (first-seen order); the best
 * mean per dataset and metric is marked (highest for accuracy-like metrics, lowest otherwise).
 */
export function summaryTable(results: readonly RunResult[]): SummaryTable {
  const metrics: string[] = [];
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    for (const m of Object.keys(r.metrics)) if (!metrics.includes(m) && typeof r.metrics[m] === 'number') metrics.push(m);
    const key = JSON.stringify([r.wrapper, r.dataset]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: SummaryRow[] = [...groups.values()].map((runs) => {
    const cells: SummaryRow['cells'] = {};
    for (const m of metrics) {
      const values = runs.map((r) => r.metrics[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (values.length) cells[m] = { ...meanStd(values), best: false };
    }
    return { method: runs[0].wrapper, dataset: runs[0].dataset, runs: runs.length, cells };
  });
  for (const dataset of new Set(rows.map((r) => r.dataset))) {
    const same = rows.filter((r) => r.dataset === dataset);
    if (same.length < 2) continue;
    for (const m of metrics) {
      const direction = metricDirection(m);
      if (!direction) continue;
      const means = same.map((r) => r.cells[m]?.mean).filter((v): v is number => v !== undefined);
      if (!means.length) continue;
      const best = direction === 'higher' ? Math.max(...means) : Math.min(...means);
      for (const r of same) if (r.cells[m] && r.cells[m].mean === best) r.cells[m].best = true;
    }
  }
  return { metrics, rows };
}

export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  return x.toFixed(digits);
}

function cellText(cell: { mean: number; std: number } | undefined, runs: number, pm: string): string {
  if (!cell) return '';
  return runs > 1 ? `${formatNumber(cell.mean)} ${pm} ${formatNumber(cell.std)}` : formatNumber(cell.mean);
}

export function tableMarkdown(t: SummaryTable): string {
  const head = ['method', 'dataset', 'runs', ...t.metrics];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of t.rows) {
    const cells = t.metrics.map((m) => {
      const text = cellText(r.cells[m], r.runs, '±');
      return r.cells[m]?.best ? `**${text}**` : text;
    });
    lines.push(`| ${[r.method, r.dataset, String(r.runs), ...cells].join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per method x dataset: mean and std columns per metric, full precision, plus `best_<metric>` flags. */
export function tableCsv(t: SummaryTable): string {
  const head = ['method', 'dataset', 'runs', ...t.metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_best`])];
  const lines = [head.map(csvField).join(',')];
  for (const r of t.rows) {
    const cells = t.metrics.flatMap((m) => {
      const c = r.cells[m];
      return c ? [String(c.mean), String(c.std), c.best ? '1' : '0'] : ['', '', ''];
    });
    lines.push([r.method, r.dataset, String(r.runs), ...cells].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (c) => (c === '\\' ? '\\textbackslash{}' : c === '~' ? '\\textasciitilde{}' : c === '^' ? '\\textasciicircum{}' : `\\${c}`));
}

/** A booktabs table (needs \usepackage{booktabs}); the best mean per dataset in bold. */
export function tableLatex(t: SummaryTable): string {
  const cols = `ll r${'c'.repeat(t.metrics.length)}`;
  const arrow = (m: string) => ({ higher: ' $\\uparrow$', lower: ' $\\downarrow$', none: '' })[metricDirection(m) ?? 'none'];
  const lines = [
    `\\begin{tabular}{${cols}}`,
    '\\toprule',
    `${['Method', 'Dataset', 'Runs', ...t.metrics.map((m) => `${latexEscape(m)}${arrow(m)}`)].join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const r of t.rows) {
    const cells = t.metrics.map((m) => {
      const text = cellText(r.cells[m], r.runs, '$\\pm$');
      return r.cells[m]?.best ? `\\textbf{${text}}` : text;
    });
    lines.push(`${[latexEscape(r.method), latexEscape(r.dataset), String(r.runs), ...cells].join(' & ')} \\\\`);
  }
  lines.push('\\bottomrule', '\\end{tabular}');
  return `${lines.join('\n')}\n`;
}
