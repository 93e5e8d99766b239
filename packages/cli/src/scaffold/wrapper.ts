import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@bayes-peft/core';
import { coreDependencyVersion, packageVersion, TOOLCHAIN } from './versions';

/** Where the template files live: packages/cli/templates/wrapper (shipped in the CLI's tarball). */
export const WRAPPER_TEMPLATE_DIR = path.resolve(__dirname, '..', '..', 'templates', 'wrapper');

export interface WrapperScaffoldOptions {
  /** The plugin's short name (`wrapper.plugin` in results, run ids): lower case, digits, dashes. */
  readonly name: string;
  /** The npm package name; default `bayes-peft-wrapper-<name>`. */
  readonly packageName?: string;
  readonly description?: string;
  /** `workspace`: `workspace:*` on the bayes-peft packages (inside this monorepo); `registry`: `^<version>`. */
  readonly dependencies: 'workspace' | 'registry';
  /** Mark the package private (an example inside a monorepo that must never be published). */
  readonly private?: boolean;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** The bayes-peft packages a wrapper builds on at run time, and the one it tests with. */
const RUNTIME = ['@bayes-peft/core', '@bayes-peft/lora', '@bayes-peft/tensor'] as const;
const TESTKIT = '@bayes-peft/plugin-testkit';

/**
 * The files of a new wrapper package, by relative path: package.json, tsconfig.json, a jest
 * config, src/ with a plain LoRA wrapper, a loss test and the conformance test, README.md, a
 * CHANGELOG.md for changesets to fill, and a .changeset folder with the first release. Pure: nothing is written.
 */
export async function renderWrapperPackage(options: WrapperScaffoldOptions): Promise<Map<string, string>> {
  const { name } = options;
  if (!NAME.test(name)) throw new UserError(`wrapper name '${name}': use lower-case letters, digits and single dashes, starting with a letter (e.g. 'swag' or 'laplace-kfac')`);
  const packageName = options.packageName ?? `bayes-peft-wrapper-${name}`;
  if (!PACKAGE_NAME.test(packageName)) throw new UserError(`'${packageName}' is not a valid npm package name`);
  const className = `${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}Wrapper`;
  const description = (options.description ?? `A bayes-peft wrapper plugin: ${name} (plain LoRA to start from)`).replace(/\s+/g, ' ').trim();
  const vars: Record<string, string> = {
    name,
    packageName,
    className,
    constName: name.replace(/-/g, '_').toUpperCase(),
    // Single-quoted in TypeScript; the README shows it as is.
    description,
  };
  const files = new Map<string, string>();
  for (const rel of await listTemplates(WRAPPER_TEMPLATE_DIR)) {
    const text = await fs.readFile(path.join(WRAPPER_TEMPLATE_DIR, rel), 'utf8');
    const value = (key: string) => (key === 'description' && rel.endsWith('.ts.tpl') ? vars.description.replace(/\\/g, '\\\\').replace(/'/g, "\\'") : vars[key]);
    const rendered = text.replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
      if (!(key in vars)) throw new Error(`${rel}: unknown template variable ${m}`);
      return value(key);
    });
    files.set(outputPath(rel), rendered);
  }
  files.set('package.json', `${JSON.stringify(packageJson(packageName, description, options), null, 2)}\n`);
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Writes the package into `dir` (created; it must be absent or empty, but for a node_modules that
 * `pnpm install` makes once the folder is in the workspace's globs). Returns the paths written.
 */
export async function writeWrapperPackage(dir: string, files: ReadonlyMap<string, string>): Promise<string[]> {
  const entries = (await fs.readdir(dir).catch(() => [] as string[])).filter((e) => e !== 'node_modules');
  if (entries.length > 0) throw new UserError(`${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); choose a new folder (nothing was written)`);
  const written: string[] = [];
  for (const [rel, text] of files) {
    const file = path.join(dir, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    written.push(file);
  }
  return written;
}

function packageJson(packageName: string, description: string, options: WrapperScaffoldOptions): Record<string, unknown> {
  const spec = (pkg: string) => (options.dependencies === 'workspace' ? 'workspace:*' : `^${packageVersion(pkg)}`);
  return {
    name: packageName,
    // 0.0.0 until the first `changeset version` applies the waiting changeset (-> 0.1.0).
    version: '0.0.0',
    ...(options.private ? { private: true } : {}),
    description,
    keywords: ['bayes-peft', 'bayes-peft-plugin', 'bayes-peft-wrapper', 'lora', 'uncertainty'],
    license: 'Apache-2.0',
    main: 'dist/index.js',
    types: 'dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', '!dist/**/*.test.*', 'README.md', 'CHANGELOG.md'],
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'jest',
      changeset: 'changeset',
      release: 'tsc -p tsconfig.json && changeset publish',
    },
    ...(options.private ? {} : { publishConfig: { access: 'public' } }),
    dependencies: {
      ...Object.fromEntries(RUNTIME.map((pkg) => [pkg, spec(pkg)])),
      // core's own pin: one zod, so the options schema is the one core's runner validates with.
      zod: coreDependencyVersion('zod'),
    },
    devDependencies: sortKeys({ [TESTKIT]: spec(TESTKIT), ...TOOLCHAIN }),
  };
}

/** Template paths map to package paths: `.tpl` dropped, `gitignore` and `changeset/` dotted (npm would drop a shipped .gitignore). */
function outputPath(rel: string): string {
  const out = rel.replace(/\.tpl$/, '').split(path.sep).join('/');
  if (out === 'gitignore') return '.gitignore';
  return out.replace(/^changeset\//, '.changeset/');
}

async function listTemplates(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...(await listTemplates(dir, rel)));
    else if (e.name.endsWith('.tpl')) out.push(rel);
  }
  return out;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
