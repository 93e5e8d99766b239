import type { TopLevelSpec } from 'vega-lite';
import { histogramSpec, linesSpec, panelsSpec, reliabilityComparisonSpec, reliabilitySpec, renderSvg } from './charts';
import { formatNumber, histogram, mcqConfidence, openConfidence, reliabilityBins, riskCoverage, summaryTable, type SummaryTable } from './data';
import type { LoadedRun } from './load';

/** Training-curve series drawn from metrics.jsonl's train rows, when present. */
export const CURVE_KEYS = ['loss', 'nll', 'kl', 'pi', 'lr'] as const;

export interface ReportOptions {
  readonly title?: string;
  /** Open-ended questions shown per run. */
  readonly questions?: number;
  /** Called with every chart as it is drawn (`bayes-peft report --figures` writes each as SVG and Vega-Lite JSON). */
  readonly onFigure?: (figure: ReportFigure) => void | Promise<void>;
}

/** One chart of the report: its kind (`reliability`, `risk-coverage`, `train-loss`, ...), what it is of (a run id or a dataset), its Vega-Lite spec with the data inline, and the SVG drawn from it. */
export interface ReportFigure {
  readonly chart: string;
  readonly of: string;
  readonly spec: TopLevelSpec;
  readonly svg: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The confidence and outcome per example of a run, or null when it has no usable predictions. */
export function runConfidence(run: LoadedRun): { confidence: number[]; correct: number[] } | null {
  if (run.kind === 'mcq') return mcqConfidence(run.predictions as { label: number; probs: number[] }[]);
  if (run.kind === 'open') return openConfidence(run.predictions as { correct_fraction: number; correct: number }[]);
  return null;
}

/** At most `max` points, evenly spaced, last kept: enough for a line, small enough for an HTML file. */
function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const step = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * step)]);
  out.push(points[points.length - 1]);
  return out;
}

async function figure(kind: string, run: string, spec: TopLevelSpec, options: ReportOptions): Promise<string> {
  const svg = await renderSvg(spec);
  await options.onFigure?.({ chart: kind, of: run, spec, svg });
  return `<figure class="chart" data-chart="${escapeHtml(kind)}" data-run="${escapeHtml(run)}">${svg}</figure>`;
}

export function tableHtml(t: SummaryTable): string {
  const head = ['method', 'dataset', 'runs', ...t.metrics].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = t.rows.map((r) => {
    const cells = t.metrics.map((m) => {
      const c = r.cells[m];
      if (!c) return '<td></td>';
      const text = r.runs > 1 ? `${formatNumber(c.mean)} ± ${formatNumber(c.std)}` : formatNumber(c.mean);
      return `<td data-metric="${escapeHtml(m)}" data-mean="${c.mean}"${c.best ? ' class="best"' : ''}>${c.best ? `<b>${text}</b>` : text}</td>`;
    });
    return `<tr><td>${escapeHtml(r.method)}</td><td>${escapeHtml(r.dataset)}</td><td>${r.runs}</td>${cells.join('')}</tr>`;
  });
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function questionTable(run: LoadedRun, count: number): string {
  const rows = run.predictions.slice(0, count).map((q) => {
    const samples = (q.samples as { text: string; correct: boolean }[] | undefined) ?? [];
    const scores = (q.scores ?? {}) as Record<string, number>;
    const uncertainty = Object.entries(scores)
      .map(([k, v]) => `${escapeHtml(k)} ${formatNumber(v, 3)}`)
      .join('<br>');
    const answers = samples.map((s) => `<li class="${s.correct ? 'right' : 'wrong'}">${s.correct ? '✓' : '✗'} ${escapeHtml(String(s.text))}</li>`).join('');
    const refs = ((q.references as string[] | undefined) ?? []).slice(0, 3).map((r) => escapeHtml(r)).join('; ');
    return `<tr><td>${escapeHtml(String(q.question ?? q.id))}<div class="refs">${refs}</div></td><td><ul>${answers}</ul></td><td>${formatNumber(Number(q.correct_fraction), 3)} (majority ${formatNumber(Number(q.correct), 1)})</td><td>${uncertainty}</td></tr>`;
  });
  return `<table class="questions"><thead><tr><th>question (references)</th><th>sampled answers and verdicts</th><th>correct fraction</th><th>uncertainty</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}
td.best{background:#e8f4e8}.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}.questions td{text-align:left}
.questions ul{margin:0;padding-left:1em}.right{color:#1a7f37}.wrong{color:#b42318}.refs{color:#777;font-size:11px}
h2{border-bottom:2px solid #444}code{background:#f4f4f4;padding:0 3px}`;

/**
 * Per method, one reliability diagram of its runs' examples pooled over seeds (so its ECE is the
 * pooled one, not the mean over seeds the summary table gives), in the order methods first appear.
 */
function methodReliability(runs: readonly LoadedRun[]): { title: string; bins: ReturnType<typeof reliabilityBins>['bins'] }[] {
  const out: { title: string; bins: ReturnType<typeof reliabilityBins>['bins'] }[] = [];
  for (const wrapper of [...new Set(runs.map((r) => r.wrapper))]) {
    const confidence: number[] = [];
    const correct: number[] = [];
    let seeds = 0;
    for (const run of runs.filter((r) => r.wrapper === wrapper)) {
      const c = runConfidence(run);
      if (!c || !c.confidence.length) continue;
      seeds++;
      confidence.push(...c.confidence);
      correct.push(...c.correct);
    }
    if (!seeds) continue;
    const rel = reliabilityBins(confidence, correct, 15);
    out.push({ title: `${wrapper}${seeds > 1 ? ` (${seeds} seeds pooled)` : ''}, ECE ${rel.ece.toFixed(4)}`, bins: rel.bins });
  }
  return out;
}

/** The whole report: one HTML file with inline CSS and inline SVG charts, no scripts, nothing fetched. */
export async function buildReport(runs: readonly LoadedRun[], options: ReportOptions = {}): Promise<string> {
  const title = options.title ?? 'bayes-peft report';
  const table = summaryTable(runs);
  const parts: string[] = [`<h1>${escapeHtml(title)}</h1>`, `<p>${runs.length} complete run(s). Mean ± std over seeds; best per dataset and column in bold.</p>`, '<h2>Summary</h2>', tableHtml(table)];

  const datasets = [...new Set(runs.map((r) => r.dataset))];
  for (const dataset of datasets) {
    const same = runs.filter((r) => r.dataset === dataset);
    const values: { x: number; y: number; series: string }[] = [];
    for (const run of same) {
      const c = runConfidence(run);
      if (!c || !c.confidence.length) continue;
      const series = same.filter((r) => r.wrapper === run.wrapper).length > 1 ? `${run.wrapper} seed ${run.seed}` : run.wrapper;
      for (const p of thin(riskCoverage(c.confidence, c.correct), 400)) values.push({ x: p.coverage, y: p.accuracy, series });
    }
    parts.push(`<h2>Dataset ${escapeHtml(dataset)}</h2>`);
    const overview: string[] = [];
    if (values.length) overview.push(await figure('risk-coverage', dataset, linesSpec(`Risk-coverage: ${dataset}`, values, 'coverage (least confident rejected)', 'accuracy', { yDomain: [0, 1] }), options));
    const panels = methodReliability(same);
    if (panels.length > 1) overview.push(await figure('reliability-by-method', dataset, reliabilityComparisonSpec(`Reliability by method: ${dataset}`, panels), options));
    if (overview.length) parts.push(`<div class="charts">${overview.join('')}</div>`);

    for (const run of same) {
      const charts: string[] = [];
      const c = runConfidence(run);
      if (c && c.confidence.length) {
        const rel = reliabilityBins(c.confidence, c.correct, 15);
        const what = run.kind === 'open' ? 'correct fraction' : 'max prob';
        charts.push(await figure('reliability', run.id, reliabilitySpec(`Reliability (${what}), ECE ${rel.ece.toFixed(4)}`, rel.bins), options));
        charts.push(await figure('histogram', run.id, histogramSpec(`Confidence (${what}), n = ${rel.n}`, histogram(c.confidence, 20)), options));
      }
      const train = run.log.filter((r) => r.phase === 'train');
      for (const key of CURVE_KEYS) {
        const pts = train.filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key])).map((r) => ({ x: Number(r.step), y: r[key] as number, series: key }));
        if (pts.length) charts.push(await figure(`train-${key}`, run.id, linesSpec(`Training ${key}`, thin(pts, 1000), 'step', key), options));
      }
      const calib = run.log.filter((r) => r.phase === 'calibrate');
      const calibrated = run.log.find((r) => r.phase === 'calibrated');
      let calibTable = '';
      if (calib.length) {
        // Counters are the x axis, not series; the rest (TFB: β, its bracket, the criterion) each get a panel and a scale of their own.
        const numeric = Object.keys(calib[0]).filter((k) => !['phase', 'step', 'index', 'iteration'].includes(k) && typeof calib[0][k] === 'number');
        const pts = calib.flatMap((r) => numeric.map((k) => ({ x: Number(r.index), y: Number(r[k]), series: k })));
        charts.push(await figure('calibration', run.id, panelsSpec('Calibration log', pts, 'search step'), options));
        const keys = Object.keys(calib[0]).filter((k) => !['phase', 'step'].includes(k));
        calibTable = `<table class="calibration"><thead><tr>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody>${calib
          .map((r) => `<tr>${keys.map((k) => `<td>${escapeHtml(typeof r[k] === 'number' ? formatNumber(r[k] as number) : String(r[k]))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
      }
      if (calibrated) calibTable += `<p>Calibrated: <code>${escapeHtml(JSON.stringify(Object.fromEntries(Object.entries(calibrated).filter(([k]) => k !== 'phase' && k !== 'step'))))}</code></p>`;
      const metrics = Object.entries(run.metrics)
        .slice(0, 12)
        .map(([k, v]) => `${escapeHtml(k)} ${formatNumber(v)}`)
        .join(' · ');
      parts.push(`<h3 id="${escapeHtml(run.id)}">${escapeHtml(run.id)}</h3><p>${metrics}</p><div class="charts">${charts.join('')}</div>${calibTable}`);
      if (run.kind === 'open') parts.push(questionTable(run, options.questions ?? 5));
    }
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>
${parts.join('\n')}
</body></html>
`;
}
