import type { RunSummary } from './experiment';
import { summaryTable } from './summary-table';

const run = (wrapper: string, metrics: Record<string, number>): RunSummary => ({ id: wrapper, dir: '', wrapper, dataset: 'triviaqa', model: 'm', seed: 1, metrics, skipped: false });
const open = { acc: 0.5, ece: 0.1, brier: 0.2, nll: 3, entropy: 0.4, auroc: 0.75, prr: 0.5 };

describe('summaryTable (open-ended)', () => {
  it('keeps its columns without semantic scores', () => {
    const [header] = summaryTable([run('mle', open)]).split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['method', 'dataset', 'runs', 'ACC', 'ECE', 'Brier', 'NLL', 'Entropy', 'AUROC', 'PRR']);
  });

  it('adds SE and AUROC(SE) when a run clustered its answers; a run without them shows n/a', () => {
    const lines = summaryTable([run('blob', { ...open, semantic_entropy: 0.6931, auroc_semantic_entropy: 0.8 }), run('mle', open)]).split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['method', 'dataset', 'runs', 'ACC', 'ECE', 'Brier', 'NLL', 'Entropy', 'AUROC', 'PRR', 'SE', 'AUROC(SE)']);
    expect(lines[2].split(/\s{2,}/).slice(-2)).toEqual(['0.6931', '0.8000']);
    expect(lines[3].trim().split(/\s{2,}/).slice(-2)).toEqual(['n/a', 'n/a']);
    expect(lines.at(-1)).toMatch(/^SE: mean semantic entropy/);
  });
});
