import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The devDependencies a scaffolded package builds and tests with: this workspace's own
 * toolchain, pinned alike (a test keeps them equal to the root package.json's).
 */
export const TOOLCHAIN: Readonly<Record<string, string>> = {
  '@changesets/cli': '2.29.7',
  '@swc/core': '1.15.3',
  '@swc/jest': '0.2.39',
  '@types/jest': '30.0.0',
  '@types/node': '20.19.25',
  jest: '30.2.0',
  typescript: '5.9.3',
};

const CLI_DIR = path.resolve(__dirname, '..', '..');

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/**
 * The version of a package as this CLI sees it: the installed copy when it resolves from the
 * CLI (its dependencies, or devDependencies in a development checkout), else the version the
 * CLI's own package.json names (a published CLI carries real versions there: pnpm pack rewrites
 * `workspace:*`).
 */
export function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [CLI_DIR] });
    return String(readJson(file).version);
  } catch {
    const own = readJson(path.join(CLI_DIR, 'package.json'));
    for (const field of ['dependencies', 'devDependencies'] as const) {
      const spec = (own[field] as Record<string, string> | undefined)?.[name];
      const exact = spec?.match(/^[~^]?(\d+\.\d+\.\d+\S*)$/);
      if (exact) return exact[1];
    }
    throw new Error(`cannot tell the version of ${name}: it is neither installed beside the CLI nor named in its package.json`);
  }
}

/** What a dependency of @bayes-peft/core is pinned to, so a plugin shares core's copy of it. */
export function coreDependencyVersion(name: string): string {
  const file = require.resolve('@bayes-peft/core/package.json', { paths: [CLI_DIR] });
  const spec = (readJson(file).dependencies as Record<string, string>)[name];
  if (!spec) throw new Error(`@bayes-peft/core does not depend on ${name}`);
  return spec;
}
