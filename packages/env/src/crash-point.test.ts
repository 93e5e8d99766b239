import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { EnvError, readEnv } from './index';

// crashPoint is run in a child process (from the built dist/, as the CLI runs it): the n-th call
// must end it with a real SIGKILL (what the kill test relies on), which would end this jest worker too.
const BUILT = path.join(__dirname, '..', 'dist', 'index.js');

function runPoints(crashAt: string | undefined): { signal: NodeJS.Signals | null; status: number | null; stdout: string } {
  const script = `
    const { crashPoint } = require(${JSON.stringify(BUILT)});
    for (let i = 1; i <= 5; i++) { crashPoint('other'); process.stdout.write(i + ' '); crashPoint('checkpoint:swap'); }
  `;
  const env = { ...process.env, BAYES_PEFT_CRASH_AT: crashAt ?? '' };
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  return { signal: r.signal, status: r.status, stdout: r.stdout };
}

describe('crashPoint', () => {
  beforeAll(() => {
    if (!existsSync(BUILT)) throw new Error('this test runs the built module: run `pnpm build` first');
  });

  it('kills the process with SIGKILL the n-th time the named point is reached, not before', () => {
    expect(runPoints('checkpoint:swap@3')).toEqual({ signal: 'SIGKILL', status: null, stdout: '1 2 3 ' });
    expect(runPoints('checkpoint:swap@1')).toEqual({ signal: 'SIGKILL', status: null, stdout: '1 ' });
  });

  it('does nothing when unset, or when the point is never reached that often', () => {
    expect(runPoints(undefined)).toEqual({ signal: null, status: 0, stdout: '1 2 3 4 5 ' });
    expect(runPoints('checkpoint:swap@6')).toEqual({ signal: null, status: 0, stdout: '1 2 3 4 5 ' });
    expect(runPoints('write:results.json@1')).toEqual({ signal: null, status: 0, stdout: '1 2 3 4 5 ' });
  });

  it('parses <point>@<n> and refuses anything else with the variable named', () => {
    expect(readEnv('BAYES_PEFT_CRASH_AT', { BAYES_PEFT_CRASH_AT: 'write:results.json@2' })).toEqual({ point: 'write:results.json', hit: 2 });
    for (const bad of ['train-step', 'train-step@0', '@3', 'a b@1']) {
      expect(() => readEnv('BAYES_PEFT_CRASH_AT', { BAYES_PEFT_CRASH_AT: bad })).toThrow(EnvError);
      expect(() => readEnv('BAYES_PEFT_CRASH_AT', { BAYES_PEFT_CRASH_AT: bad })).toThrow(/BAYES_PEFT_CRASH_AT=.* is not <point>@<n>/);
    }
  });
});
