import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { planExperiment } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from './builtin-plugins';

// Every spec under examples/ stays valid as options change: the README and the docs point at them.
const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

describe('examples/*.yaml', () => {
  it('every example spec validates, every plugin option included', async () => {
    const files = (await fs.readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(expect.arrayContaining(['quickstart.yaml', 'triviaqa-stories260k.yaml', 'paper-generative.yaml']));
    for (const file of files) {
      const { runs } = await planExperiment(path.join(EXAMPLES, file), { builtinPlugins: BUILTIN_PLUGINS });
      expect(runs.length).toBeGreaterThan(0);
    }
  });
});
