import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '@bayes-peft/core';
import { writeFileAtomic } from '@bayes-peft/tensor';
import { buildReport, findRunDirs, loadRuns, summaryTable, tableCsv, tableLatex, tableMarkdown, type ReportFigure } from '@bayes-peft/report';
import { specRuns } from './spec-runs';

export type ReportFormat = 'html' | 'md' | 'csv' | 'latex';

const EXTENSIONS: Record<ReportFormat, string> = { html: 'report.html', md: 'summary.md', csv: 'summary.csv', latex: 'summary.tex' };

/** The run folders a report covers: a spec's planned runs, or every folder holding results.json under a runs folder. */
async function resolveRuns(target: string): Promise<{ dirs: string[]; root: string; title: string }> {
  if (/\.ya?ml$/i.test(target)) {
    const runs = await specRuns(target);
    const dirs = runs.map((r) => r.dir);
    const root = dirs.length ? path.dirname(dirs[0]) : path.dirname(path.resolve(target));
    return { dirs, root, title: path.basename(root) };
  }
  const stat = await fs.stat(target).catch(() => null);
  if (!stat?.isDirectory()) throw new UserError(`report: ${target} is neither a runs folder nor a spec (.yaml)`);
  const root = path.resolve(target);
  return { dirs: await findRunDirs(root), root, title: path.basename(root) };
}

/** A figure's file name without extension: `<chart>--<run id or dataset>`, safe on every filesystem. */
export function figureName(figure: Pick<ReportFigure, 'chart' | 'of'>): string {
  return `${figure.chart}--${figure.of}`.replace(/[^\w.-]+/g, '_');
}

/**
 * Writes the report of the complete runs and returns the file written (`experiment` calls it
 * when a whole spec has run). With `figures`, every chart of the report is also written there
 * on its own, as SVG (for a paper: Inkscape, or LaTeX's svg package) and as its Vega-Lite spec
 * with the data inline (to restyle it in the Vega editor or Altair).
 */
export async function writeReport(target: string, options: { out?: string; format?: ReportFormat; figures?: string } = {}): Promise<{ file: string; runs: number; figures: number }> {
  const format = options.format ?? 'html';
  const { dirs, root, title } = await resolveRuns(target);
  const runs = await loadRuns(dirs);
  if (!runs.length) throw new UserError(`report: no complete run under ${target} (a complete run has status.json "complete" and results.json)`);
  const file = path.resolve(options.out ?? path.join(root, EXTENSIONS[format]));
  const figuresDir = options.figures ? path.resolve(options.figures) : null;
  let figures = 0;
  const onFigure = async (figure: ReportFigure) => {
    if (!figuresDir) return;
    const name = path.join(figuresDir, figureName(figure));
    await writeFileAtomic(`${name}.svg`, figure.svg.startsWith('<?xml') ? figure.svg : `<?xml version="1.0" encoding="utf-8"?>\n${figure.svg}`);
    await writeFileAtomic(`${name}.vl.json`, `${JSON.stringify(figure.spec, null, 2)}\n`);
    figures++;
  };
  const html = format === 'html' || figuresDir ? await buildReport(runs, { title: `bayes-peft report: ${title}`, onFigure }) : '';
  let text: string;
  if (format === 'html') text = html;
  else {
    const table = summaryTable(runs);
    text = format === 'md' ? tableMarkdown(table) : format === 'csv' ? tableCsv(table) : tableLatex(table);
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
  return { file, runs: runs.length, figures };
}

export function reportCommand(): Command {
  return new Command('report')
    .exitOverride()
    .description(
      'one self-contained, offline HTML report of the complete runs (summary table of mean ± std over seeds, reliability diagrams, confidence histograms, risk-coverage curves, training curves, calibration log, open-ended answers), or the summary table alone as Markdown, CSV or LaTeX',
    )
    .argument('<runs>', 'a runs folder (searched for run folders) or a run spec (YAML)')
    .option('--out <file>', 'where to write (default: report.html, summary.md, summary.csv or summary.tex in the runs folder)')
    .option('--figures <dir>', 'also write every chart on its own into <dir>: <chart>--<run or dataset>.svg and .vl.json (its Vega-Lite spec, data inline)')
    .addOption(new Option('--format <format>', 'html: the full report; md, csv, latex: the summary table alone (LaTeX: booktabs, best in bold)').choices(['html', 'md', 'csv', 'latex']).default('html'))
    .action(async (target: string, opts: { out?: string; format: ReportFormat; figures?: string }) => {
      const { file, runs, figures } = await writeReport(target, opts);
      process.stdout.write(`${file}\n`);
      process.stderr.write(`report: ${runs} complete run(s)${opts.figures ? `; ${figures} figures (SVG and Vega-Lite JSON) in ${path.resolve(opts.figures)}` : ''}\n`);
    });
}
