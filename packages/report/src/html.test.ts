import { buildReport } from './html';
import { chartMarks } from './marks';
import type { LoadedRun } from './load';

function run(partial: Partial<LoadedRun>): LoadedRun {
  return { dir: '/x', id: 'r', wrapper: 'mle', dataset: 'd', seed: 1, metrics: {}, results: {}, kind: 'none', predictions: [], log: [], ...partial };
}

describe('buildReport (synthetic runs)', () => {
  it('draws an open-ended run with its question table and a TFB calibration log, escaping text', async () => {
    const open = run({
      id: 'tfb-q-seed1',
      wrapper: 'tfb',
      dataset: 'q',
      kind: 'open',
      metrics: { acc: 0.5, ece: 0.25 },
      predictions: [
        { id: 'a', question: 'Who <b>?', references: ['x'], samples: [{ text: 'x', correct: true }, { text: 'y', correct: false }], correct_fraction: 0.5, correct: 0.5, scores: { seq_entropy: 1.25 } },
        { id: 'b', question: 'Q2', references: ['z'], samples: [{ text: 'z', correct: true }], correct_fraction: 0.8, correct: 1, scores: { seq_entropy: 0.1 } },
      ],
      log: [
        { phase: 'train', step: 1, loss: 2, lr: 0.1 },
        { phase: 'train', step: 2, loss: 1, lr: 0.05 },
        { phase: 'calibrate', step: 2, index: 0, beta: 0.1, value: 0.01, accepted: true },
        { phase: 'calibrate', step: 2, index: 1, beta: 0.05, value: 0.02, accepted: false },
        { phase: 'calibrated', step: 2, beta: 0.1 },
      ],
    });
    const html = await buildReport([open]);
    expect(html).toContain('Who &lt;b&gt;?');
    expect(html).not.toContain('Who <b>?');
    expect(html).toContain('seq_entropy 1.250');
    expect(html).toMatch(/<li class="right">✓ x<\/li><li class="wrong">✗ y<\/li>/);
    expect(html).toContain('Calibrated: <code>{&quot;beta&quot;:0.1}</code>');
    const charts = chartMarks(html);
    expect(charts.map((c) => c.chart)).toEqual(['risk-coverage', 'reliability', 'histogram', 'train-loss', 'train-lr', 'calibration']);
    const rel = charts.find((c) => c.chart === 'reliability')!;
    // two non-empty bins (0.5 in [7/15, 8/15), 0.8 in [11/15, float32 12/15)): two bars, two count labels, the diagonal
    expect(rel.marks).toEqual({ line: 1, rect: 2, text: 2 });
    expect(html).toContain('ECE 0.1000'); // 1/2 |0.5 - 0.5| + 1/2 |1 - 0.8|
    expect(charts.find((c) => c.chart === 'calibration')!.marks.line).toBe(2); // beta and value
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/<script/i);
  });
});
