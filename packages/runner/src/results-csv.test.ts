import type { RunSummary } from './experiment';
import { resultsCsv } from './results-csv';

const run = (id: string, model: string, metrics: Record<string, number>): RunSummary => ({ id, dir: '', wrapper: 'blob', dataset: 'arc', model, seed: 2, metrics, skipped: 'complete' });

describe('resultsCsv', () => {
  it('one row per run, every metric key any run has, in first-seen order; a missing or NaN metric an empty field', () => {
    const csv = resultsCsv([run('a', 'm', { acc: 0.5, ece: 0.125 }), run('b', 'm', { acc: Number.NaN, auroc: 0.75 })]);
    expect(csv).toBe('id,wrapper,dataset,model,seed,acc,ece,auroc\na,blob,arc,m,2,0.5,0.125,\nb,blob,arc,m,2,,,0.75\n');
  });

  it('quotes fields with commas, quotes or line breaks (RFC 4180)', () => {
    const csv = resultsCsv([run('x', 'models/"tiny", v2\nb', { acc: 1 })]);
    expect(csv).toBe('id,wrapper,dataset,model,seed,acc\nx,blob,arc,"models/""tiny"", v2\nb",2,1\n');
  });

  it('no runs: the header of the fixed columns alone', () => {
    expect(resultsCsv([])).toBe('id,wrapper,dataset,model,seed\n');
  });
});
