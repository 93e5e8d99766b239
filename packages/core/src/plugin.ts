import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { Wrapper } from './contracts/wrapper';
import type { RunContext } from './run-context';
import type { LoraConfig } from './spec/lora';
import { TOKENS } from './tokens';

export const PLUGIN_KINDS = ['backbone', 'wrapper', 'dataset', 'evaluator', 'judge'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * What a plugin package default-exports. `register` binds the plugin's classes to core's
 * injection tokens in the run's child container; `options` validates (and documents) the
 * spec section the plugin reads.
 */
export interface Plugin<O extends z.ZodType = z.ZodType> {
  readonly kind: PluginKind;
  /** Short name a spec uses (`blob`); unique per kind. */
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Package the plugin ships in, for messages and `bayes-peft plugins`. */
  readonly packageName?: string;
  readonly options: O;
  register(container: DependencyContainer, options: z.output<O>): void;
}

export function definePlugin<O extends z.ZodType>(plugin: Plugin<O>): Plugin<O> {
  for (const field of ['kind', 'name', 'version', 'options', 'register'] as const) {
    if (plugin[field] === undefined) throw new Error(`definePlugin: '${field}' is required (plugin '${plugin.name ?? '?'}')`);
  }
  if (!(PLUGIN_KINDS as readonly string[]).includes(plugin.kind)) {
    throw new Error(`definePlugin: kind '${plugin.kind}' of '${plugin.name}' is not one of ${PLUGIN_KINDS.join(', ')}`);
  }
  return Object.freeze({ ...plugin });
}

export function isPlugin(value: unknown): value is Plugin {
  const v = value as Partial<Plugin> | null;
  return !!v && typeof v === 'object' && typeof v.name === 'string' && typeof v.register === 'function' && !!v.kind;
}

/** What a wrapper's `create` receives: the run (seed, Rng, log), the spec's `lora:` section and the plugin's parsed options. */
export interface WrapperContext<O = unknown> {
  readonly run: RunContext;
  readonly lora: LoraConfig;
  readonly options: O;
}

export interface WrapperDefinition<O extends z.ZodType> {
  readonly name: string;
  /** Read it from the package's package.json (`require('../package.json').version`). */
  readonly version: string;
  readonly description: string;
  readonly packageName?: string;
  readonly options: O;
  /** Makes the run's wrapper; called once per run. */
  create(ctx: WrapperContext<z.output<O>>): Wrapper;
}

/**
 * A wrapper plugin from a plain object: no decorators, no container. The registry's container
 * (tsyringe, inside core) calls `create` once per run with what the wrapper needs.
 */
export function defineWrapper<O extends z.ZodType>(def: WrapperDefinition<O>): Plugin<O> {
  const { create, ...rest } = def;
  if (typeof create !== 'function') throw new Error(`defineWrapper: 'create' is required (wrapper '${def.name ?? '?'}')`);
  return definePlugin({
    kind: 'wrapper',
    ...rest,
    register(container, options) {
      const factory = (c: DependencyContainer) => create({ run: c.resolve(TOKENS.RunContext), lora: c.resolve(TOKENS.LoraConfig), options });
      container.register(TOKENS.Wrapper, { useFactory: instanceCachingFactory(factory) });
    },
  });
}
