import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { chartMarks, renderSvg } from '@bayes-peft/report';
import { figureName } from './commands/report';
import { runCli, tempDir, tinyModel } from './cli.test-support';
import { BUILTIN_PLUGINS } from './builtin-plugins';

// A report from real runs: the quickstart's matrix (mle and blob on the toy task) at a tiny size,
// two seeds each, run through runExperiment, then `bayes-peft report`.
function spec(model: string, output: string): string {
  return `
name: rep
seed: 1
output: ${output}
model:
  path: ${model}
dataset:
  plugin: toy
  options: { trainSize: 48, testSize: 24 }
lora: { r: 4, alpha: 8, targets: [q_proj, v_proj, lm_head] }
train: { steps: 4, batchSize: 8, lr: 0.01, maxSeqLen: 48 }
eval: { batchSize: 24 }
matrix:
  seed: [1, 2]
  wrapper:
    - mle
    - plugin: blob
      options: { evalSamples: 2, evalSamplesFinal: 2 }
`;
}

describe('bayes-peft report (from real runs)', () => {
  let dir: string;
  let runs: string;
  let specFile: string;
  const results: { wrapper: string; seed: number; metrics: Record<string, number> }[] = [];

  beforeAll(async () => {
    dir = await tempDir('report');
    const model = await tinyModel(dir);
    runs = path.join(dir, 'runs');
    specFile = path.join(dir, 'spec.yaml');
    await fs.writeFile(specFile, spec(model, runs));
    const { silentLogger } = await import('@bayes-peft/core');
    const { runExperiment } = await import('@bayes-peft/runner');
    await runExperiment(specFile, { log: silentLogger, progress: false, searchPaths: [path.resolve(__dirname, '..')], builtinPlugins: BUILTIN_PLUGINS });
    for (const wrapper of ['mle', 'blob']) {
      for (const seed of [1, 2]) {
        const r = JSON.parse(await fs.readFile(path.join(runs, 'rep', `${wrapper}-toy-seed${seed}`, 'results.json'), 'utf8'));
        results.push({ wrapper, seed, metrics: r.metrics });
      }
    }
  }, 180_000);

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes one offline HTML file with every expected chart drawn and the summary numbers of results.json', async () => {
    const res = await runCli('report', runs);
    expect(res.code).toBe(0);
    const file = path.join(runs, 'report.html');
    expect(res.stdout.trim()).toBe(file);
    const html = await fs.readFile(file, 'utf8');

    // offline: nothing to fetch, nothing to run
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);

    const charts = chartMarks(html);
    const svgs = html.match(/<svg/g) ?? [];
    expect(svgs.length).toBe(charts.length);
    const ids = ['mle-toy-seed1', 'mle-toy-seed2', 'blob-toy-seed1', 'blob-toy-seed2'];
    // one risk-coverage chart for the dataset, one line per method and seed
    const rc = charts.filter((c) => c.chart === 'risk-coverage');
    expect(rc).toHaveLength(1);
    expect(rc[0].marks.line).toBe(4);
    for (const id of ids) {
      const mine = charts.filter((c) => c.run === id);
      const blob = id.startsWith('blob');
      expect(mine.map((c) => c.chart).sort()).toEqual(['histogram', 'reliability', 'train-loss', 'train-lr', 'train-nll', ...(blob ? ['train-kl', 'train-pi'] : [])].sort());
      const rel = mine.find((c) => c.chart === 'reliability')!;
      expect(rel.marks.line).toBe(1); // the diagonal
      expect(rel.marks.rect).toBeGreaterThan(0);
      expect(rel.marks.text).toBe(rel.marks.rect); // a count per bar
      expect(mine.find((c) => c.chart === 'histogram')!.marks.rect).toBe(20);
      for (const c of mine.filter((c) => c.chart.startsWith('train-'))) expect(c.marks.line).toBe(1);
      // ECE in the title equals the run's metric
      const r = results.find((x) => `${x.wrapper}-toy-seed${x.seed}` === id)!;
      expect(html).toContain(`ECE ${r.metrics.ece.toFixed(4)}`);
    }

    // the summary: mean over the two seeds of every metric, as results.json has them
    for (const wrapper of ['mle', 'blob']) {
      const row = html.match(new RegExp(`<tr><td>${wrapper}</td><td>toy</td><td>(\\d+)</td>(.*?)</tr>`))!;
      expect(row[1]).toBe('2');
      const mine = results.filter((r) => r.wrapper === wrapper);
      for (const metric of Object.keys(mine[0].metrics)) {
        const cell = row[2].match(new RegExp(`data-metric="${metric}" data-mean="([^"]+)"`))!;
        expect(Number(cell[1])).toBeCloseTo((mine[0].metrics[metric] + mine[1].metrics[metric]) / 2, 12);
      }
    }
  });

  it('writes the summary table alone as Markdown, CSV and LaTeX, from the spec as from the folder', async () => {
    const md = await runCli('report', specFile, '--format', 'md', '--out', path.join(dir, 't.md'));
    expect(md.code).toBe(0);
    const text = await fs.readFile(path.join(dir, 't.md'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^\| method \| dataset \| runs \| acc \| ece \| nll \| brier \|/);
    expect(text).toMatch(/\| mle \| toy \| 2 \|/);

    const csv = await runCli('report', runs, '--format', 'csv');
    expect(csv.code).toBe(0);
    const rows = (await fs.readFile(path.join(runs, 'summary.csv'), 'utf8')).trim().split('\n');
    const head = rows[0].split(',');
    const mle = rows.find((r) => r.startsWith('mle,'))!.split(',');
    const mean = (m: string) => results.filter((r) => r.wrapper === 'mle').reduce((a, r) => a + r.metrics[m] / 2, 0);
    expect(Number(mle[head.indexOf('nll_mean')])).toBeCloseTo(mean('nll'), 12);

    const tex = await runCli('report', runs, '--format', 'latex', '--out', path.join(dir, 't.tex'));
    expect(tex.code).toBe(0);
    const latex = await fs.readFile(path.join(dir, 't.tex'), 'utf8');
    expect(latex).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    expect(latex).toMatch(/\\textbf\{/);
  });

  it('--figures writes every chart of the report on its own, as SVG and as a Vega-Lite spec that draws the same SVG', async () => {
    const figures = path.join(dir, 'figures');
    const res = await runCli('report', runs, '--out', path.join(dir, 'fig-report.html'), '--figures', figures);
    expect(res.code).toBe(0);
    const charts = chartMarks(await fs.readFile(path.join(dir, 'fig-report.html'), 'utf8'));
    expect(res.stderr).toContain(`${charts.length} figures (SVG and Vega-Lite JSON) in ${figures}`);
    // the dataset's figures too: the risk-coverage overlay and the two methods' reliability side by side
    expect(charts.filter((c) => c.run === 'toy').map((c) => c.chart)).toEqual(['risk-coverage', 'reliability-by-method']);
    const names = charts.map((c) => figureName({ chart: c.chart, of: c.run }));
    expect((await fs.readdir(figures)).sort()).toEqual(names.flatMap((n) => [`${n}.svg`, `${n}.vl.json`]).sort());
    for (const name of names) {
      const svg = await fs.readFile(path.join(figures, `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<svg /);
      const spec = JSON.parse(await fs.readFile(path.join(figures, `${name}.vl.json`), 'utf8'));
      expect({ name, same: svg.endsWith(await renderSvg(spec)) }).toEqual({ name, same: true });
    }
    const byMethod = charts.find((c) => c.chart === 'reliability-by-method')!;
    expect(byMethod.marks.line).toBe(2); // a diagonal per method
  });

  it('is a user error when nothing is complete or the target is wrong', async () => {
    const empty = await tempDir('report-empty');
    const none = await runCli('report', empty);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no complete run/);
    const bad = await runCli('report', path.join(empty, 'missing'), '--format', 'pdf');
    expect(bad.code).not.toBe(0);
    await fs.rm(empty, { recursive: true, force: true });
  });

  it('experiment writes report.html into the runs folder when the whole spec has run, not for one selected run', async () => {
    const report = path.join(runs, 'rep', 'report.html');
    await fs.rm(report, { force: true });
    const one = await runCli('experiment', specFile, '--no-progress', '--index', '0');
    expect(one.code).toBe(0);
    expect(one.stdout).not.toMatch(/report:/);
    await expect(fs.access(report)).rejects.toThrow();
    // Every run is complete already: the command skips them and writes the report of all four.
    const all = await runCli('experiment', specFile, '--no-progress');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`report: ${report}`);
    expect(chartMarks(await fs.readFile(report, 'utf8')).length).toBeGreaterThan(4);
    const off = await runCli('experiment', specFile, '--no-progress', '--no-report');
    expect(off.stdout).not.toMatch(/report:/);
  }, 60_000);
});
