import { spawnSync } from 'node:child_process';
import { shellJoin, shellQuote } from './shell';

describe('shellQuote', () => {
  it('leaves plain paths bare', () => {
    expect(shellQuote('/work/main/runs/paper-llama2')).toBe('/work/main/runs/paper-llama2');
    expect(shellQuote('--sbatch-arg=--mem=32G')).toBe('--sbatch-arg=--mem=32G');
  });

  it('gives bash back every word as it was, whatever it holds', () => {
    const words = ['a b', "it's", '$HOME', '`id`', 'x;y', '', '*', 'new\nline', '"q"'];
    const r = spawnSync('bash', ['-c', `printf '%s\\0' ${shellJoin(words)}`], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(words);
  });
});
