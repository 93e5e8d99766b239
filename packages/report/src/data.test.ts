import { histogram, mcqConfidence, meanStd, metricDirection, openConfidence, reliabilityBins, riskCoverage, summaryTable, tableCsv, tableLatex, tableMarkdown, type RunResult } from './data';

describe('reliabilityBins', () => {
  it('bins as the ECE metric does (15 bins, [lo, hi), 1.0 alone) with hand-computed accuracy, confidence and ECE', () => {
    // 0.1 and 0.12 fall in bin 1 ([1/15, 2/15)), 0.5 in bin 7 ([7/15, 8/15)), 0.95 in bin 14, 1.0 in bin 15.
    const conf = [0.1, 0.12, 0.5, 0.95, 1];
    const correct = [1, 0, 1, 0, 1];
    const r = reliabilityBins(conf, correct, 15);
    expect(r.bins).toHaveLength(16);
    expect(r.bins.map((b) => b.count)).toEqual([0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(r.bins[1].accuracy).toBe(0.5);
    expect(r.bins[1].confidence).toBeCloseTo(0.11, 12);
    expect(r.bins[0].accuracy).toBeNaN();
    // ECE = 2/5 |0.5 - 0.11| + 1/5 |1 - 0.5| + 1/5 |0 - 0.95| + 1/5 |1 - 1| = 0.156 + 0.1 + 0.19 + 0 = 0.446
    expect(r.ece).toBeCloseTo(0.446, 12);
    expect(r.n).toBe(5);
  });

  it('puts a confidence exactly on a boundary in the upper bin', () => {
    const r = reliabilityBins([Math.fround(1 / 3)], [1], 3);
    expect(r.bins.map((b) => b.count)).toEqual([0, 1, 0, 0]);
  });

  it('takes fractional verdicts (a tie under the half rule)', () => {
    const r = reliabilityBins([0.5, 0.5], [0.5, 1], 2);
    expect(r.bins[1].accuracy).toBe(0.75);
    expect(r.ece).toBeCloseTo(0.25, 12);
  });
});

describe('confidence readers', () => {
  it('MCQ: max prob and whether the argmax is the label', () => {
    expect(
      mcqConfidence([
        { label: 1, probs: [0.2, 0.7, 0.1] },
        { label: 0, probs: [0.3, 0.3, 0.4] },
      ]),
    ).toEqual({ confidence: [0.7, 0.4], correct: [1, 0] });
  });
  it('open-ended: correct_fraction and the majority verdict', () => {
    expect(openConfidence([{ correct_fraction: 0.6, correct: 1 }, { correct_fraction: 0.5, correct: 0.5 }])).toEqual({ confidence: [0.6, 0.5], correct: [1, 0.5] });
  });
});

describe('histogram', () => {
  it('counts equal-width bins over [0, 1], 1.0 in the last', () => {
    expect(histogram([0, 0.24, 0.25, 0.99, 1], 4).map((b) => b.count)).toEqual([2, 1, 0, 2]);
    expect(histogram([], 2)).toEqual([
      { lo: 0, hi: 0.5, count: 0 },
      { lo: 0.5, hi: 1, count: 0 },
    ]);
  });
});

describe('riskCoverage', () => {
  it('keeps the most confident first and gives the accuracy of the kept ones', () => {
    // order by confidence: 0.9 (1), 0.8 (0), 0.6 (1), 0.3 (0)
    const points = riskCoverage([0.3, 0.9, 0.6, 0.8], [0, 1, 1, 0]);
    expect(points).toEqual([
      { coverage: 0.25, accuracy: 1 },
      { coverage: 0.5, accuracy: 0.5 },
      { coverage: 0.75, accuracy: 2 / 3 },
      { coverage: 1, accuracy: 0.5 },
    ]);
  });
  it('breaks ties by input order', () => {
    expect(riskCoverage([0.5, 0.5], [0, 1]).map((p) => p.accuracy)).toEqual([0, 0.5]);
  });
});

describe('summaryTable', () => {
  const results: RunResult[] = [
    { wrapper: 'mle', dataset: 'toy', seed: 1, metrics: { acc: 0.6, ece: 0.2, entropy: 0.5, n: 10 } },
    { wrapper: 'mle', dataset: 'toy', seed: 2, metrics: { acc: 0.8, ece: 0.1, entropy: 0.7, n: 10 } },
    { wrapper: 'blob', dataset: 'toy', seed: 1, metrics: { acc: 0.65, ece: 0.05, entropy: 0.9, n: 10 } },
    { wrapper: 'blob', dataset: 'arc', seed: 1, metrics: { acc: 0.3, ece: 0.3, n: 5 } },
  ];

  it('mean ± sample std over seeds, the run count, best per dataset and column', () => {
    const t = summaryTable(results);
    expect(t.metrics).toEqual(['acc', 'ece', 'entropy', 'n']);
    expect(t.rows.map((r) => [r.method, r.dataset, r.runs])).toEqual([
      ['mle', 'toy', 2],
      ['blob', 'toy', 1],
      ['blob', 'arc', 1],
    ]);
    const mle = t.rows[0].cells;
    expect(mle.acc.mean).toBeCloseTo(0.7, 12);
    expect(mle.acc.std).toBeCloseTo(Math.sqrt(0.02), 12); // ((0.1)^2 + (0.1)^2) / (2 - 1)
    expect(mle.acc.best).toBe(true); // 0.7 > 0.65
    expect(t.rows[1].cells.ece.best).toBe(true); // 0.05 < 0.15
    expect(mle.ece.best).toBe(false);
    // descriptive metrics and n are not ranked; a dataset with one method has no best
    expect(mle.entropy.best || t.rows[1].cells.entropy.best).toBe(false);
    expect(mle.n.best).toBe(false);
    expect(t.rows[2].cells.acc.best).toBe(false);
  });

  it('meanStd and metricDirection', () => {
    expect(meanStd([2])).toEqual({ mean: 2, std: 0 });
    expect(meanStd([1, 3])).toEqual({ mean: 2, std: Math.SQRT2 });
    expect(metricDirection('acc')).toBe('higher');
    expect(metricDirection('auroc_seq_entropy')).toBe('higher');
    expect(metricDirection('semantic_ece')).toBe('lower');
    expect(metricDirection('aurc_max_seq_prob')).toBe('lower');
    expect(metricDirection('mutual_info')).toBeNull();
  });

  it('writes Markdown, CSV and booktabs LaTeX with the best in bold', () => {
    const t = summaryTable(results.slice(0, 3).map((r) => ({ ...r, metrics: { acc: r.metrics.acc, ece: r.metrics.ece } })));
    expect(tableMarkdown(t)).toBe(
      ['| method | dataset | runs | acc | ece |', '| --- | --- | ---: | ---: | ---: |', '| mle | toy | 2 | **0.7000 ± 0.1414** | 0.1500 ± 0.0707 |', '| blob | toy | 1 | 0.6500 | **0.0500** |', ''].join('\n'),
    );
    const csv = tableCsv(t).split('\n');
    expect(csv[0]).toBe('method,dataset,runs,acc_mean,acc_std,acc_best,ece_mean,ece_std,ece_best');
    expect(csv[2]).toBe('blob,toy,1,0.65,0,0,0.05,0,1');
    const tex = tableLatex(t);
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\midrule');
    expect(tex).toContain('\\bottomrule');
    expect(tex).toContain('Method & Dataset & Runs & acc $\\uparrow$ & ece $\\downarrow$ \\\\');
    expect(tex).toContain('mle & toy & 2 & \\textbf{0.7000 $\\pm$ 0.1414} & 0.1500 $\\pm$ 0.0707 \\\\');
    expect(tex).toContain('blob & toy & 1 & 0.6500 & \\textbf{0.0500} \\\\');
  });

  it('escapes LaTeX specials in names', () => {
    const tex = tableLatex(summaryTable([{ wrapper: 'blob_x', dataset: 'a&b', seed: 1, metrics: { mutual_info: 0.1 } }]));
    expect(tex).toContain('blob\\_x & a\\&b & 1 & 0.1000 \\\\');
    expect(tex).toContain('mutual\\_info \\\\');
  });
});
