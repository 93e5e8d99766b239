import { accessSync, constants, promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildReport, chartMarks, CURVE_KEYS, findRunDirs, loadRuns, mcqConfidence, openConfidence, reliabilityBins } from './index';

// The report opened in a real browser (Debian's Chromium driven by puppeteer-core): a report
// that a browser cannot show as intended (a reference it fetches, an SVG it rejects, a chart
// drawn with no marks) fails here, where the string-level tests in html.test.ts cannot see it.
// The runs are written in the on-disk format the runner writes and read back through the
// package's public API. report.html and a full-page report.png stay in <repo>/runs/browser-test/
// (gitignored) for a human to look at.

const REPO = path.resolve(__dirname, '..', '..', '..');
const OUT = path.join(REPO, 'runs', 'browser-test');

/**
 * The Chromium to drive. CHROMIUM_PATH or PUPPETEER_EXECUTABLE_PATH, when set, is the only one
 * tried (so setting it to a missing file turns the test off); otherwise Debian's and the usual
 * distribution paths.
 */
function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { why: string } {
  for (const name of ['CHROMIUM_PATH', 'PUPPETEER_EXECUTABLE_PATH']) {
    const value = env[name];
    if (value) return isExecutable(value) ? { path: value } : { why: `${name}=${value} is not an executable file` };
  }
  const candidates = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find(isExecutable);
  return found ? { path: found } : { why: `no Chromium at ${candidates.join(', ')} and neither CHROMIUM_PATH nor PUPPETEER_EXECUTABLE_PATH set` };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

const CHROMIUM = findChromium();
if (!('path' in CHROMIUM)) {
  process.stderr.write(`browser.e2e: skipped: ${CHROMIUM.why} (apt-get install chromium; CI's .ci/run installs it)\n`);
}
// Skipped rather than failed without a browser: Chromium is a system package that a developer
// machine may lack and that CI installs, like the Redis and Slurm of the other end-to-end tests.
const describeWithChromium = 'path' in CHROMIUM ? describe : describe.skip;

// ---- a small runs folder, deterministic from a seeded PRNG ----

/** mulberry32: a 32-bit seeded generator, enough for fixture noise. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const entropy = (p: readonly number[]) => -p.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0);

const MCQ_EXAMPLES = 160;
const CHOICES = 4;
const TRAIN_STEPS = 120;
const EVAL_EVERY = 40;
const OPEN_QUESTIONS = 30;
const OPEN_SAMPLES = 10;

interface RunFixture {
  readonly id: string;
  readonly wrapper: string;
  readonly dataset: string;
  readonly seed: number;
  readonly state: 'complete' | 'running';
  readonly results: Record<string, unknown>;
  readonly predictions: Record<string, unknown>[];
  readonly log: Record<string, unknown>[];
  readonly spec: string;
}

/**
 * MCQ predictions: one true label per example, logits with a per-example margin on it plus
 * noise. `sharpness` scales the logits (an over-confident MLE above 1); `samples` > 1 draws
 * weight-noise samples around them and averages their probabilities, as the Bayesian wrappers do.
 */
function mcqPredictions(rand: () => number, sharpness: number, samples: number): { id: string; label: number; probs: number[]; sample_probs: number[][] }[] {
  const rows = [];
  for (let i = 0; i < MCQ_EXAMPLES; i++) {
    const label = Math.floor(rand() * CHOICES);
    const margin = 2.5 * rand();
    const logits = Array.from({ length: CHOICES }, (_, k) => gaussian(rand) + (k === label ? margin : 0));
    const sampleProbs = Array.from({ length: samples }, () => softmax(logits.map((l) => sharpness * (l + (samples > 1 ? 0.4 * gaussian(rand) : 0)))));
    const probs = Array.from({ length: CHOICES }, (_, k) => mean(sampleProbs.map((p) => p[k])));
    rows.push({ id: `toy-test-${i}`, label, probs, sample_probs: sampleProbs });
  }
  return rows;
}

/** The final metrics the runner writes for an MCQ run, computed from its predictions. */
function mcqMetrics(rows: ReturnType<typeof mcqPredictions>): Record<string, number> {
  const { confidence, correct } = mcqConfidence(rows);
  const expected = mean(rows.map((r) => mean(r.sample_probs.map(entropy))));
  const total = mean(rows.map((r) => entropy(r.probs)));
  return {
    acc: mean(correct),
    ece: reliabilityBins(confidence, correct, 15).ece,
    nll: mean(rows.map((r) => -Math.log(r.probs[r.label]))),
    brier: mean(rows.map((r) => r.probs.reduce((a, p, k) => a + (p - (k === r.label ? 1 : 0)) ** 2, 0))),
    entropy: total,
    expected_entropy: expected,
    mutual_info: total - expected,
    n: rows.length,
  };
}

/** metrics.jsonl's train rows (warm-up then linear decay; BLoB adds its KL, π and ELBO) and eval rows. */
function trainLog(rand: () => number, bayesian: boolean): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const warmup = Math.round(0.06 * TRAIN_STEPS);
  for (let step = 1; step <= TRAIN_STEPS; step++) {
    const lr = 0.02 * (step <= warmup ? (step - 1) / warmup : (TRAIN_STEPS - step) / (TRAIN_STEPS - warmup));
    const nll = 0.6 + 0.8 * Math.exp(-step / 35) + 0.08 * gaussian(rand);
    const acc = Math.min(1, Math.max(0, 0.3 + 0.45 * (1 - Math.exp(-step / 35)) + 0.1 * gaussian(rand)));
    if (bayesian) {
      const kl = 40 * (1 - Math.exp(-step / 50)) + 2 * rand();
      const pi = (2 ** (step / 12) - 1) / (2 ** (TRAIN_STEPS / 12) - 1);
      rows.push({ phase: 'train', step, epoch: Math.floor(step / 64), loss: nll + (pi * kl) / 512, nll, kl, elbo: 512 * nll + kl, pi, lr, acc, klLr: lr / 10 });
    } else {
      rows.push({ phase: 'train', step, epoch: Math.floor(step / 64), loss: nll, nll, acc, lr });
    }
    if (step % EVAL_EVERY === 0) rows.push({ phase: 'eval', step, acc, nll });
  }
  return rows;
}

/** TFB's bisection on its noise scale beta: a beta is accepted when the anchor NLL rises by less than the tolerance. */
function calibrationLog(rand: () => number): { log: Record<string, unknown>[]; beta: number } {
  const log: Record<string, unknown>[] = [];
  const tolerance = 0.01;
  let low = 0.001;
  let high = 0.2;
  let best = low;
  for (let iteration = 0; iteration < 10; iteration++) {
    const beta = (low + high) / 2;
    const value = 60 * beta ** 2 * (1 + 0.1 * gaussian(rand));
    const accepted = value < tolerance;
    if (accepted) {
      low = beta;
      best = beta;
    } else high = beta;
    log.push({ phase: 'calibrate', step: 0, index: iteration, iteration, beta, value, accepted, low, high });
  }
  log.push({ phase: 'calibrated', step: 0, beta: best, criterion: 'nll', tolerance, anchorExamples: 128, iterations: 10, acceptedAny: best > 0.001 });
  return { log, beta: best };
}

const WORDS = ['river', 'capital', 'painter', 'planet', 'novel', 'mountain', 'composer', 'island', 'treaty', 'element', 'empire', 'bridge'];

/** Open-ended predictions: sampled answers judged correct with a per-question chance, their verdict fraction, majority (ties half) and uncertainty scores. */
function openPredictions(rand: () => number): Record<string, unknown>[] {
  const rows = [];
  for (let i = 0; i < OPEN_QUESTIONS; i++) {
    const pick = () => WORDS[Math.floor(rand() * WORDS.length)];
    const reference = `${pick()} of ${pick()}`;
    const chance = rand() ** 1.5;
    const samples = Array.from({ length: OPEN_SAMPLES }, () => {
      const correct = rand() < chance;
      const nll = 2 + 10 * rand();
      return { text: correct ? reference : `${pick()} ${pick()}`, nll, nll_per_token: nll / 8, tokens: 8, correct, confidence: correct ? 0.5 + rand() / 2 : rand() / 2 };
    });
    const right = samples.filter((s) => s.correct).length;
    const fraction = right / OPEN_SAMPLES;
    const distinct = new Set(samples.map((s) => s.text)).size;
    rows.push({
      id: `validation-${i}`,
      question: `Which ${pick()} is named after the ${pick()} in question ${i}?`,
      references: [reference, `the ${reference}`],
      samples,
      correct_fraction: fraction,
      correct: right * 2 === OPEN_SAMPLES ? 0.5 : right * 2 > OPEN_SAMPLES ? 1 : 0,
      scores: {
        seq_entropy: mean(samples.map((s) => s.nll)),
        max_seq_prob: Math.min(...samples.map((s) => s.nll)),
        incorrect_fraction: 1 - fraction,
        semantic_entropy: Math.log(distinct) * (0.8 + 0.2 * rand()),
        semantic_sets: distinct,
      },
    });
  }
  return rows;
}

function specYaml(run: { wrapper: string; dataset: string; seed: number }): string {
  return `# matrix run: {"wrapper":"${run.wrapper}","seed":${run.seed}}\nname: browser\nseed: ${run.seed}\noutput: runs\ndataset:\n  plugin: ${run.dataset}\nwrapper:\n  plugin: ${run.wrapper}\ntrain:\n  steps: ${run.wrapper === 'tfb' ? 0 : TRAIN_STEPS}\n  evalEvery: ${EVAL_EVERY}\n`;
}

function fixtureRuns(): RunFixture[] {
  const runs: RunFixture[] = [];
  const base = (wrapper: string, dataset: string, seed: number) => ({ id: `${wrapper}-${dataset}-seed${seed}`, wrapper, dataset, seed, spec: specYaml({ wrapper, dataset, seed }) });
  const results = (b: ReturnType<typeof base>, metrics: Record<string, number>, extra: Record<string, unknown> = {}) => ({
    id: b.id,
    wrapper: b.wrapper,
    dataset: b.dataset,
    model: '.models/tiny-llama',
    seed: b.seed,
    run: b.id,
    metrics,
    steps: b.wrapper === 'tfb' ? 0 : TRAIN_STEPS,
    ...extra,
    elapsedSeconds: 1,
  });
  for (const seed of [1, 2]) {
    for (const [wrapper, sharpness, samples] of [
      ['mle', 1.6, 1],
      ['blob', 1, 4],
    ] as const) {
      const rand = prng(seed * 100 + samples);
      const b = base(wrapper, 'toy', seed);
      const predictions = mcqPredictions(rand, sharpness, samples);
      const metrics = mcqMetrics(predictions);
      runs.push({ ...b, state: 'complete', predictions, log: [...trainLog(rand, wrapper === 'blob'), { phase: 'final', step: TRAIN_STEPS, ...metrics }], results: results(b, metrics) });
    }
  }
  {
    const rand = prng(7);
    const b = base('tfb', 'toy', 1);
    const predictions = mcqPredictions(rand, 1.2, 4);
    const metrics = mcqMetrics(predictions);
    const calibration = calibrationLog(rand);
    const summary = calibration.log[calibration.log.length - 1];
    runs.push({
      ...b,
      state: 'complete',
      predictions,
      log: [...calibration.log, { phase: 'final', step: 0, ...metrics }],
      results: results(b, metrics, { calibration: Object.fromEntries(Object.entries(summary).filter(([k]) => k !== 'phase' && k !== 'step')) }),
    });
  }
  {
    const rand = prng(11);
    const b = base('mle', 'triviaqa', 1);
    const predictions = openPredictions(rand);
    const { confidence, correct } = openConfidence(predictions as { correct_fraction: number; correct: number }[]);
    const metrics = { acc: mean(correct), ece: reliabilityBins(confidence, correct, 15).ece, n: predictions.length, semantic_sets: mean(predictions.map((p) => (p.scores as { semantic_sets: number }).semantic_sets)) };
    runs.push({ ...b, state: 'complete', predictions, log: [...trainLog(rand, false), { phase: 'final', step: TRAIN_STEPS, ...metrics }], results: results(b, metrics) });
  }
  {
    // a run still going (results.json from an earlier attempt, status running): the report leaves it out
    const rand = prng(13);
    const b = base('blob', 'toy', 3);
    const predictions = mcqPredictions(rand, 1, 4);
    runs.push({ ...b, state: 'running', predictions, log: trainLog(rand, true).slice(0, 30), results: results(b, mcqMetrics(predictions)) });
  }
  return runs;
}

async function writeRunsFolder(root: string, runs: readonly RunFixture[]): Promise<void> {
  const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  for (const run of runs) {
    const dir = path.join(root, run.id);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'spec.resolved.yaml'), run.spec);
    await fs.writeFile(path.join(dir, 'env.json'), JSON.stringify({ seed: run.seed, backend: 'wasm', node: process.version, run: run.id }, null, 2) + '\n');
    await fs.writeFile(path.join(dir, 'metrics.jsonl'), jsonl(run.log));
    await fs.writeFile(path.join(dir, 'predictions.jsonl'), jsonl(run.predictions));
    await fs.writeFile(path.join(dir, 'results.json'), JSON.stringify(run.results, null, 2) + '\n');
    await fs.writeFile(path.join(dir, 'status.json'), JSON.stringify({ state: run.state, updated: '2026-12-07T12:00:00.000Z' }, null, 2) + '\n');
  }
}

/** The (chart, run) pairs the report must draw for these runs, from what each run's files hold. */
function expectedCharts(runs: readonly RunFixture[]): string[] {
  const out: string[] = [];
  for (const dataset of new Set(runs.map((r) => r.dataset))) {
    out.push(`risk-coverage ${dataset}`);
    if (new Set(runs.filter((r) => r.dataset === dataset).map((r) => r.wrapper)).size > 1) out.push(`reliability-by-method ${dataset}`);
    for (const run of runs.filter((r) => r.dataset === dataset)) {
      out.push(`reliability ${run.id}`, `histogram ${run.id}`);
      const train = run.log.filter((r) => r.phase === 'train');
      for (const key of CURVE_KEYS) if (train.some((r) => typeof r[key] === 'number')) out.push(`train-${key} ${run.id}`);
      if (run.log.some((r) => r.phase === 'calibrate')) out.push(`calibration ${run.id}`);
    }
  }
  return out;
}

interface LiveChart {
  chart: string;
  run: string;
  svgs: number;
  box: { width: number; height: number };
  marks: Record<string, number>;
  drawnMarks: number;
  title: string;
}

describeWithChromium('the report in headless Chromium (end to end)', () => {
  let tmp: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-browser-'));
  });

  afterAll(async () => {
    if (browser) {
      const child = browser.process();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([browser.close(), new Promise((r) => (timer = setTimeout(r, 10_000)))]).catch(() => undefined);
      clearTimeout(timer);
      // a browser that did not close in time is not left behind
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('shows every chart with its marks, the summary table, fetches nothing and logs no error', async () => {
    const fixtures = fixtureRuns();
    const runsRoot = path.join(tmp, 'runs', 'browser');
    await writeRunsFolder(runsRoot, fixtures);
    const complete = fixtures.filter((r) => r.state === 'complete');

    const dirs = await findRunDirs(runsRoot);
    expect(dirs).toHaveLength(fixtures.length);
    const runs = await loadRuns(dirs);
    expect(runs.map((r) => r.id).sort()).toEqual(complete.map((r) => r.id).sort());
    expect(new Set(runs.map((r) => r.kind))).toEqual(new Set(['mcq', 'open']));

    const html = await buildReport(runs, { title: 'browser test' });
    await fs.mkdir(OUT, { recursive: true });
    const reportFile = path.join(OUT, 'report.html');
    const screenshotFile = path.join(OUT, 'report.png');
    await fs.writeFile(reportFile, html);
    const reportUrl = pathToFileURL(reportFile).href;

    // what the static HTML says was drawn: the browser must show the same
    const expected = chartMarks(html);
    expect(expected.map((c) => `${c.chart} ${c.run}`).sort()).toEqual(expectedCharts(complete).sort());
    expect(new Set(expected.map((c) => c.chart))).toEqual(new Set(['risk-coverage', 'reliability-by-method', 'reliability', 'histogram', ...CURVE_KEYS.map((k) => `train-${k}`), 'calibration']));

    browser = await puppeteer.launch({
      executablePath: (CHROMIUM as { path: string }).path,
      headless: true,
      // CI runs as root, where Chromium refuses to start with its sandbox
      args: ['--no-sandbox'],
    });
    const page: Page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });

    const problems: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url() === reportUrl) return void request.continue();
      problems.push(`request for ${request.url()}`);
      void request.abort();
    });
    page.on('requestfailed', (request) => {
      if (request.url() !== reportUrl && problems.includes(`request for ${request.url()}`)) return; // aborted above, already counted
      problems.push(`failed request ${request.url()}: ${request.failure()?.errorText}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));

    const response = await page.goto(reportUrl, { waitUntil: 'load' });
    expect(response?.ok()).toBe(true);
    // taken before the checks, so that a failing run leaves a picture of what went wrong too
    await page.screenshot({ path: screenshotFile as `${string}.png`, fullPage: true });
    const png = await fs.readFile(screenshotFile);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(problems).toEqual([]);

    const summary = await page.$eval('table.summary', (table) => {
      const box = table.getBoundingClientRect();
      const style = getComputedStyle(table);
      const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
      return { width: box.width, height: box.height, visible: style.visibility === 'visible' && style.display !== 'none', rows };
    });
    expect(summary.visible).toBe(true);
    expect(summary.width).toBeGreaterThan(0);
    expect(summary.height).toBeGreaterThan(0);
    const methods = new Set(complete.map((r) => `${r.wrapper} ${r.dataset}`));
    expect(summary.rows.map((r) => `${r[0]} ${r[1]}`).sort()).toEqual([...methods].sort());
    for (const row of summary.rows) {
      const seeds = complete.filter((r) => r.wrapper === row[0] && r.dataset === row[1]).length;
      expect(row[2]).toBe(String(seeds));
      // two seeds: every filled metric cell is mean ± std; one seed: a plain number
      for (const cell of row.slice(3).filter((c) => c)) expect(cell.includes('±')).toBe(seeds > 1);
    }

    const live: LiveChart[] = await page.$$eval('figure.chart[data-chart][data-run]', (figures) =>
      figures.map((figure) => {
        const svg = figure.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
        const marks: Record<string, number> = {};
        let drawnMarks = 0;
        for (const group of figure.querySelectorAll('g.role-mark')) {
          const type = /(?:^|\s)mark-(\w+)/.exec(group.getAttribute('class') ?? '')?.[1] ?? '?';
          const items = group.querySelectorAll('path, rect, text');
          marks[type] = (marks[type] ?? 0) + items.length;
          for (const item of items) {
            const r = item.getBoundingClientRect();
            if (r.width > 0 || r.height > 0) drawnMarks++;
          }
        }
        return {
          chart: figure.getAttribute('data-chart') ?? '',
          run: figure.getAttribute('data-run') ?? '',
          svgs: figure.querySelectorAll('svg').length,
          box: { width: box.width, height: box.height },
          marks,
          drawnMarks,
          title: figure.querySelector('.role-title-text')?.textContent ?? '',
        };
      }),
    );

    expect(live.map((c) => `${c.chart} ${c.run}`)).toEqual(expected.map((c) => `${c.chart} ${c.run}`));
    for (const [i, chart] of live.entries()) {
      const what = `${chart.chart} of ${chart.run}`;
      expect({ what, svgs: chart.svgs }).toEqual({ what, svgs: 1 });
      expect({ what, nonEmpty: chart.box.width > 0 && chart.box.height > 0 }).toEqual({ what, nonEmpty: true });
      expect({ what, marks: chart.marks }).toEqual({ what, marks: expected[i].marks });
      const total = Object.values(chart.marks).reduce((a, b) => a + b, 0);
      expect({ what, total: total > 0, drawn: chart.drawnMarks > 0 }).toEqual({ what, total: true, drawn: true });
    }

    // the risk-coverage overlay draws a line per method and seed; a reliability title carries results.json's ECE
    const toy = live.find((c) => c.chart === 'risk-coverage' && c.run === 'toy')!;
    expect(toy.marks.line).toBe(complete.filter((r) => r.dataset === 'toy').length);
    for (const run of complete) {
      const rel = live.find((c) => c.chart === 'reliability' && c.run === run.id)!;
      expect(rel.title).toContain(`ECE ${((run.results.metrics as Record<string, number>).ece).toFixed(4)}`);
    }
    // the comparison has one diagram per method on the dataset, each with its diagonal
    const byMethod = live.find((c) => c.chart === 'reliability-by-method' && c.run === 'toy')!;
    expect(byMethod.marks.line).toBe(new Set(complete.filter((r) => r.dataset === 'toy').map((r) => r.wrapper)).size);
    const tfb = complete.find((r) => r.wrapper === 'tfb')!;
    const calibRows = await page.$$eval('table.calibration tbody tr', (rows) => rows.length);
    expect(calibRows).toBe(tfb.log.filter((r) => r.phase === 'calibrate').length);
    const questions = await page.$$eval('table.questions tbody tr', (rows) => rows.map((tr) => tr.querySelectorAll('li').length));
    expect(questions.length).toBeGreaterThan(0);
    for (const answers of questions) expect(answers).toBe(OPEN_SAMPLES);

    expect(problems).toEqual([]);
    process.stderr.write(`browser.e2e: report ${reportFile}, screenshot ${screenshotFile}\n`);
  });
});
