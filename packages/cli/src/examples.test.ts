import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { planExperiment } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from './builtin-plugins';
import { runCli } from './cli.test-support';

// Every spec under examples/ stays valid as options change: the README and the docs point at them.
const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

describe('examples/*.yaml', () => {
  it('every example spec validates, every plugin option included', async () => {
    const files = (await fs.readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(expect.arrayContaining(['quickstart.yaml', 'triviaqa-stories260k.yaml', 'triviaqa-nli.yaml', 'paper-generative.yaml']));
    for (const file of files) {
      const { runs } = await planExperiment(path.join(EXAMPLES, file), { builtinPlugins: BUILTIN_PLUGINS });
      expect(runs.length).toBeGreaterThan(0);
    }
  });

  it('triviaqa-nli.yaml: bayes-peft validate accepts it; the NLI scorer (the shared tiny model) also compares the answers, strictly', async () => {
    const file = path.join(EXAMPLES, 'triviaqa-nli.yaml');
    const res = await runCli('validate', file);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/triviaqa-nli\.yaml: valid, 2 runs\n  mle-triviaqa-rc\.nocontext-seed1 .*\n  blob-triviaqa-rc\.nocontext-seed1 /);
    const { runs } = await planExperiment(file, { builtinPlugins: BUILTIN_PLUGINS });
    for (const run of runs) {
      expect(run.plugins.judge.plugin.name).toBe('nli');
      expect(path.resolve(EXAMPLES, String(run.plugins.judge.options.model))).toBe(path.resolve(EXAMPLES, '..', '..', 'shared', 'models', 'tiny-nli'));
      expect(run.spec.semantic).toEqual({ comparer: 'scorer', strict: true, batchSize: 64 });
    }
  });
});
