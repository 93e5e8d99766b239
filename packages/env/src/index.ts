/**
 * The environment variables of bayes-peft, declared once in ./vars.ts and read only through
 * `readEnv`: an unset or empty variable gives its default, a bad value is an `EnvError` naming
 * the variable (`BAYES_PEFT_THREADS='abc' is not a positive integer`), the same for every one.
 */
import { ENV, type EnvScope, type EnvVar } from './vars';

export { ENV, type EnvScope, type EnvVar } from './vars';

export type EnvName = keyof typeof ENV;
/** What `readEnv(name)` returns: the parsed value, or undefined for a variable without a default. */
export type EnvValue<N extends EnvName> = (typeof ENV)[N] extends EnvVar<infer T> ? T : never;
/** Where variables are read from: process.env by default; tests pass their own. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A variable set to a value it does not take. The CLI prints the message alone. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export const ENV_NAMES = Object.keys(ENV) as EnvName[];

/** The declaration of `name` (throws for a name that was never declared). */
export function envVar<N extends EnvName>(name: N): (typeof ENV)[N] {
  const v = ENV[name];
  if (!v) throw new Error(`${String(name)} is not a declared environment variable (packages/env/src/vars.ts)`);
  return v;
}

/** The value of `name`: parsed and validated, its default when unset or empty. */
export function readEnv<N extends EnvName>(name: N, env: EnvSource = process.env): EnvValue<N> {
  const spec = envVar(name) as EnvVar<unknown>;
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return (typeof spec.default === 'function' ? (spec.default as () => unknown)() : spec.default) as EnvValue<N>;
  const r = spec.schema.safeParse(raw);
  if (!r.success) throw new EnvError(name, `${name}='${raw}' ${spec.expected}`);
  return r.data as EnvValue<N>;
}

/** The variable as it was given, for messages (`BAYES_PEFT_FAST=0`); null when unset or empty. */
export function envText(name: EnvName, env: EnvSource = process.env): string | null {
  const raw = env[name]?.trim();
  return raw ? `${name}=${raw}` : null;
}

/** Validates every declared variable that is set (of the given scopes); one error lists each bad one. */
export function checkEnv(env: EnvSource = process.env, scopes: readonly EnvScope[] = ['run']): void {
  const problems: EnvError[] = [];
  for (const name of ENV_NAMES) {
    if (!scopes.includes(ENV[name].scope)) continue;
    try {
      readEnv(name, env);
    } catch (e) {
      if (!(e instanceof EnvError)) throw e;
      problems.push(e);
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length) {
    throw new EnvError(problems.map((p) => p.variable).join(', '), `bad environment variables:\n  ${problems.map((p) => p.message).join('\n  ')}`);
  }
}

const SCOPE_TITLES: Record<EnvScope, string> = {
  run: 'Read by a run (the CLI and the libraries)',
  install: 'Read by install scripts',
  tests: 'Read by the tests, CI and `pnpm bench`',
};

/**
 * The docs table of every variable (docs/run-spec.md's Environment section), one table per
 * scope, in declaration order.
 */
export function envMarkdown(): string {
  const parts: string[] = [];
  for (const scope of Object.keys(SCOPE_TITLES) as EnvScope[]) {
    const rows = ENV_NAMES.filter((n) => ENV[n].scope === scope);
    if (!rows.length) continue;
    parts.push(`${SCOPE_TITLES[scope]}:\n`);
    parts.push('| variable | type | default | effect | read by |');
    parts.push('|---|---|---|---|---|');
    for (const n of rows) {
      const v = ENV[n] as EnvVar<unknown>;
      parts.push(`| \`${n}\` | ${v.type} | ${v.defaultText} | ${v.description.replace(/\|/g, '\\|')} | ${v.readBy} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

export { CRASH_POINTS, crashPoint, resetCrashPoints } from './crash-point';
