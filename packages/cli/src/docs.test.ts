import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runSpecDoc } from './commands/options';

describe('docs/run-spec.md', () => {
  it('is the generated reference of every option (run `pnpm docs:run-spec` after changing a schema)', async () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'docs', 'run-spec.md');
    const doc = await fs.readFile(file, 'utf8');
    expect(doc).toBe(runSpecDoc());
    // Spot checks that the tables carry defaults of the core and of a plugin.
    expect(doc).toMatch(/\| `warmupRatio` \| number \[0, 1\] \| `0\.06` \|/);
    expect(doc).toMatch(/\| `klLr` \| number \[0, inf\) \| `0\.02` \|/);
  });
});
