import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export interface BayesPeftWorkspace {
  /** The folder holding pnpm-workspace.yaml. */
  readonly root: string;
  /** Whether the workspace's package globs take in the target folder (else it must be added). */
  readonly covered: boolean;
  /** The target relative to the root, with forward slashes. */
  readonly relative: string;
}

/**
 * The bayes-peft pnpm workspace that `dir` lies inside (a folder above it with a
 * pnpm-workspace.yaml whose packages/core is @bayes-peft/core), or null: another monorepo or
 * none, where a scaffold depends on published versions instead.
 */
export function findBayesPeftWorkspace(dir: string): BayesPeftWorkspace | null {
  const target = path.resolve(dir);
  for (let root = path.dirname(target); ; root = path.dirname(root)) {
    const file = path.join(root, 'pnpm-workspace.yaml');
    if (fs.existsSync(file)) {
      if (!isBayesPeftRoot(root)) return null;
      const relative = path.relative(root, target).split(path.sep).join('/');
      const globs = ((parse(fs.readFileSync(file, 'utf8')) as { packages?: string[] } | null)?.packages ?? []).map(String);
      return { root, relative, covered: coveredBy(relative, globs) };
    }
    if (path.dirname(root) === root) return null;
  }
}

function isBayesPeftRoot(root: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'packages', 'core', 'package.json'), 'utf8')).name === '@bayes-peft/core';
  } catch {
    return false;
  }
}

/** pnpm's package globs: `*` within one folder name, `**` across folders, `!` excludes. */
export function coveredBy(relative: string, globs: readonly string[]): boolean {
  const toRegex = (glob: string) =>
    new RegExp(
      `^${glob
        .replace(/^\.\//, '')
        .replace(/\/+$/, '')
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')}$`,
    );
  const include = globs.filter((g) => !g.startsWith('!'));
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  return include.some((g) => toRegex(g).test(relative)) && !exclude.some((g) => toRegex(g).test(relative));
}
