import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderWrapperPackage } from './scaffold/wrapper';
import { coveredBy, findBayesPeftWorkspace } from './scaffold/workspace';
import { TOOLCHAIN } from './scaffold/versions';
import { exists, runCli, tempDir } from './cli.test-support';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'wrapper-template');
const REGENERATE =
  "find examples/wrapper-template -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} + && pnpm bayes-peft new wrapper template --dir examples/wrapper-template --private";

/** Files of a package folder, without what install, build and test leave there. */
async function packageFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    if (['node_modules', 'dist', '.turbo', 'coverage'].includes(e.name) || e.name.endsWith('.tsbuildinfo')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await packageFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe('bayes-peft new wrapper', () => {
  // examples/wrapper-template is a workspace package that CI builds and tests like any other
  // (turbo: tsc, then its jest: the loss test and the conformance suite). Equal to a fresh
  // scaffold, it shows that the scaffold builds and passes its tests untouched.
  it('makes exactly the committed examples/wrapper-template (which CI builds and tests)', async () => {
    const files = await renderWrapperPackage({ name: 'template', dependencies: 'workspace', private: true });
    expect(await packageFiles(EXAMPLE)).toEqual([...files.keys()].sort());
    for (const [rel, text] of files) {
      const committed = await fs.readFile(path.join(EXAMPLE, rel), 'utf8');
      if (committed !== text) throw new Error(`examples/wrapper-template/${rel} differs from the scaffold's output; regenerate it with\n  ${REGENERATE}`);
    }
    const pkg = JSON.parse(files.get('package.json')!);
    expect(pkg).toMatchObject({ name: 'bayes-peft-wrapper-template', private: true, main: 'dist/index.js', types: 'dist/index.d.ts' });
    expect(pkg.dependencies).toMatchObject({ '@bayes-peft/core': 'workspace:*', '@bayes-peft/lora': 'workspace:*', '@bayes-peft/tensor': 'workspace:*' });
    expect(pkg.devDependencies['@bayes-peft/plugin-testkit']).toBe('workspace:*');
    const workspace = await fs.readFile(path.join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
    expect(workspace).toMatch(/^\s+- examples\/wrapper-template$/m);
  });

  it('scaffolds a publishable package outside the workspace, on the released versions', async () => {
    const dir = path.join(await tempDir('new-wrapper'), 'laplace-kfac');
    const res = await runCli('new', 'wrapper', 'laplace-kfac', '--dir', dir, '--package', '@someone/bayes-peft-laplace', '--description', "K-FAC Laplace: it's post hoc");
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/created @someone\/bayes-peft-laplace \(wrapper 'laplace-kfac'\) in .*: 14 files/);
    expect(res.stdout).toMatch(/next: cd .* && npm install && npm run build && npm test/);
    expect(await packageFiles(dir)).toEqual([
      '.changeset/config.json',
      '.changeset/first-release.md',
      '.gitignore',
      'CHANGELOG.md',
      'README.md',
      'jest.config.js',
      'package.json',
      'src/conformance.test.ts',
      'src/index.ts',
      'src/loss.test.ts',
      'src/loss.ts',
      'src/options.ts',
      'src/wrapper.ts',
      'tsconfig.json',
    ]);
    const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
    const version = (name: string) => JSON.parse(require('node:fs').readFileSync(path.join(ROOT, name, 'package.json'), 'utf8')).version;
    expect(pkg.name).toBe('@someone/bayes-peft-laplace');
    expect(pkg.private).toBeUndefined();
    expect(pkg.publishConfig).toEqual({ access: 'public' });
    expect(pkg.dependencies).toEqual({
      '@bayes-peft/core': `^${version('packages/core')}`,
      '@bayes-peft/lora': `^${version('packages/lora')}`,
      '@bayes-peft/tensor': `^${version('packages/tensor')}`,
      zod: JSON.parse(await fs.readFile(path.join(ROOT, 'packages/core/package.json'), 'utf8')).dependencies.zod,
    });
    expect(pkg.devDependencies['@bayes-peft/plugin-testkit']).toBe(`^${version('tooling/plugin-testkit')}`);
    const index = await fs.readFile(path.join(dir, 'src/index.ts'), 'utf8');
    expect(index).toContain("name: 'laplace-kfac'");
    expect(index).toContain("description: 'K-FAC Laplace: it\\'s post hoc'");
    expect(await fs.readFile(path.join(dir, 'src/wrapper.ts'), 'utf8')).toContain('export class LaplaceKfacWrapper extends LoraWrapper');
    expect(await fs.readFile(path.join(dir, '.changeset/first-release.md'), 'utf8')).toMatch(/^---\n"@someone\/bayes-peft-laplace": minor\n---/);
    expect(await fs.readFile(path.join(dir, 'README.md'), 'utf8')).toContain('plugin: @someone/bayes-peft-laplace');
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('refuses a bad name or a folder in use, writing nothing', async () => {
    const dir = await tempDir('new-wrapper-bad');
    const bad = await runCli('new', 'wrapper', 'My_Method', '--dir', path.join(dir, 'a'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/wrapper name 'My_Method': use lower-case letters, digits and single dashes/);
    expect(await exists(path.join(dir, 'a'))).toBe(false);
    await fs.writeFile(path.join(dir, 'keep.txt'), 'mine');
    const used = await runCli('new', 'wrapper', 'ok', '--dir', dir);
    expect(used.code).toBe(1);
    expect(used.stderr).toMatch(/is not empty \(keep\.txt\); choose a new folder \(nothing was written\)/);
    expect(await fs.readdir(dir)).toEqual(['keep.txt']);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('knows when a folder is inside this workspace and whether its globs take it in', () => {
    expect(findBayesPeftWorkspace(path.join(ROOT, 'plugins', 'wrapper-new'))).toEqual({ root: ROOT, relative: 'plugins/wrapper-new', covered: true });
    expect(findBayesPeftWorkspace(path.join(ROOT, 'contrib', 'x'))).toEqual({ root: ROOT, relative: 'contrib/x', covered: false });
    expect(findBayesPeftWorkspace(path.join(path.parse(ROOT).root, 'nowhere-bayes-peft', 'x'))).toBeNull();
    expect(coveredBy('plugins/a', ['plugins/*'])).toBe(true);
    expect(coveredBy('plugins/a/b', ['plugins/*'])).toBe(false);
    expect(coveredBy('plugins/a/b', ['plugins/**'])).toBe(true);
    expect(coveredBy('examples/wrapper-template', ['./examples/wrapper-template/'])).toBe(true);
    expect(coveredBy('plugins/legacy', ['plugins/*', '!plugins/legacy'])).toBe(false);
  });

  it('pins the toolchain the workspace itself builds and tests with', async () => {
    const root = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8'));
    for (const [name, version] of Object.entries(TOOLCHAIN)) expect(`${name}@${root.devDependencies[name]}`).toBe(`${name}@${version}`);
  });
});
