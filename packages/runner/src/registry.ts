import * as path from 'node:path';
import { UserError } from '@bayes-peft/core';
import { isPlugin, PLUGIN_KINDS, type Plugin, type PluginKind } from '@bayes-peft/core';

/**
 * Short names a spec may use for plugins, per kind: short name -> npm package name. Core knows
 * none itself; the CLI passes the ones this project publishes (packages/cli/src/builtin-plugins.ts).
 */
export type BuiltinPlugins = { readonly [K in PluginKind]?: Readonly<Record<string, string>> };

export interface ResolvedPlugin {
  readonly plugin: Plugin;
  /** How the spec named it, and where it was loaded from. */
  readonly ref: string;
  readonly source: string;
}

/**
 * Turns a spec's plugin reference into a plugin object: a built-in short name (`blob`, one of
 * `builtins`), an npm package name (`@someone/bayes-peft-wrapper-x`), or a local path
 * (`./my-wrapper`). Packages resolve from the spec's folder, then `searchPaths` (the working
 * directory, the CLI's own installation).
 */
export class PluginRegistry {
  private readonly cache = new Map<string, ResolvedPlugin>();

  constructor(
    private readonly searchPaths: readonly string[],
    private readonly builtins: BuiltinPlugins,
  ) {}

  resolve(kind: PluginKind, ref: string, fromDir: string = process.cwd()): ResolvedPlugin {
    const key = `${kind}:${ref}:${fromDir}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const builtin = this.builtinsOf(kind)[ref];
    const isPath = ref.startsWith('.') || path.isAbsolute(ref);
    const request = builtin ?? (isPath ? path.resolve(fromDir, ref) : ref);
    let mod: unknown;
    let source: string;
    try {
      source = require.resolve(request, { paths: isPath ? [fromDir] : [fromDir, ...this.searchPaths] });
      mod = require(source);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((e as Error).message).includes(request)) throw e;
      throw new UserError(this.unknownMessage(kind, ref, builtin, isPath));
    }
    const candidate = (mod as { default?: unknown }).default ?? mod;
    if (!isPlugin(candidate)) {
      throw new UserError(`${source} does not export a bayes-peft plugin (a default export made by defineWrapper, defineBackbone, defineDataset or defineJudge from @bayes-peft/core)`);
    }
    if (candidate.kind !== kind) {
      throw new UserError(`'${ref}' is a ${candidate.kind} plugin, but this spec section needs a ${kind}`);
    }
    const resolved = { plugin: candidate, ref, source };
    this.cache.set(key, resolved);
    return resolved;
  }

  /** Built-in short names of a kind whose package is installed. */
  known(kind: PluginKind, fromDir: string = process.cwd()): string[] {
    return Object.entries(this.builtinsOf(kind))
      .filter(([, pkg]) => this.installed(pkg, fromDir))
      .map(([name]) => name);
  }

  /** Every installed built-in plugin with its kind and version. */
  listInstalled(fromDir: string = process.cwd()): ResolvedPlugin[] {
    const out: ResolvedPlugin[] = [];
    for (const kind of PLUGIN_KINDS) for (const name of this.known(kind, fromDir)) out.push(this.resolve(kind, name, fromDir));
    return out;
  }

  /** The short names of a kind; none when the map leaves the kind out. */
  private builtinsOf(kind: PluginKind): Readonly<Record<string, string>> {
    return this.builtins[kind] ?? {};
  }

  private installed(pkg: string, fromDir: string): boolean {
    try {
      require.resolve(pkg, { paths: [fromDir, ...this.searchPaths] });
      return true;
    } catch {
      return false;
    }
  }

  private unknownMessage(kind: PluginKind, ref: string, builtin: string | undefined, isPath: boolean): string {
    if (builtin) return `the built-in ${kind} plugin '${ref}' is not installed (npm package ${builtin})`;
    if (isPath) return `no ${kind} plugin at ${ref}`;
    const known = this.known(kind);
    return `unknown ${kind} plugin '${ref}': not a built-in name and no npm package of that name is installed. Known ${kind} plugins: ${known.join(', ') || '(none)'}`;
  }
}
