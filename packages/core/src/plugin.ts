import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { Dataset } from './contracts/dataset';
import type { Judge } from './contracts/judge';
import type { Wrapper } from './contracts/wrapper';
import type { RunContext } from './run-context';
import type { LoraConfig } from './spec/lora';
import { TOKENS, type BackboneLoader } from './tokens';

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
  return definePlainPlugin('wrapper', def, (container, options, create) => {
    const factory = (c: DependencyContainer) => create({ run: c.resolve(TOKENS.RunContext), lora: c.resolve(TOKENS.LoraConfig), options });
    container.register(TOKENS.Wrapper, { useFactory: instanceCachingFactory(factory) });
  });
}

/**
 * What every `define*` shares: `create` checked up front, the plain fields passed on, and
 * `bind` putting the plugin's factory on its token in the run's container.
 */
function definePlainPlugin<O extends z.ZodType, C extends (...args: never[]) => unknown>(
  kind: 'wrapper' | 'backbone' | 'dataset' | 'judge',
  def: Omit<Plugin<O>, 'kind' | 'register'> & { readonly create: C },
  bind: (container: DependencyContainer, options: z.output<O>, create: C) => void,
): Plugin<O> {
  const { create, ...rest } = def;
  const fn = `define${kind[0].toUpperCase()}${kind.slice(1)}`;
  if (typeof create !== 'function') throw new Error(`${fn}: 'create' is required (${kind} '${def.name ?? '?'}')`);
  return definePlugin<O>({ kind, ...rest, register: (container, options) => bind(container, options, create) });
}

/** What a backbone's, dataset's or judge's `create` receives: the run (seed, Rng, log, hub, spec folder) and the plugin's parsed options. */
export interface PluginContext<O = unknown> {
  readonly run: RunContext;
  readonly options: O;
}

export type BackboneContext<O = unknown> = PluginContext<O>;
export type DatasetContext<O = unknown> = PluginContext<O>;
export type JudgeContext<O = unknown> = PluginContext<O>;

/** The fields every `define*` plain-object plugin shares. */
interface DefinitionBase<O extends z.ZodType> {
  readonly name: string;
  /** Read it from the package's package.json (`require('../package.json').version`). */
  readonly version: string;
  readonly description: string;
  readonly packageName?: string;
  readonly options: O;
}

export interface BackboneDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /** Makes the run's backbone loader (whose `load()` the run session awaits); `options` is `ctx.options`. */
  create(ctx: BackboneContext<z.output<O>>, options: z.output<O>): BackboneLoader;
}

export interface DatasetDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /** Makes the run's dataset; called once per run. `options` is `ctx.options`. */
  create(ctx: DatasetContext<z.output<O>>, options: z.output<O>): Dataset;
}

export interface JudgeDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /**
   * Makes the run's judge; called once per run, so a model-backed judge loads its model once
   * (lazily, on its first `judge` call, since `create` is synchronous). `options` is `ctx.options`.
   */
  create(ctx: JudgeContext<z.output<O>>, options: z.output<O>): Judge;
}

/**
 * A backbone plugin from a plain object: no decorators, no container. `register` binds
 * TOKENS.BackboneLoader to a factory (transient, like the former `useClass` binding) that calls
 * `create` with the run context and the parsed options.
 */
export function defineBackbone<O extends z.ZodType>(def: BackboneDefinition<O>): Plugin<O> {
  return definePlainPlugin('backbone', def, (container, options, create) => {
    container.register(TOKENS.BackboneLoader, { useFactory: (c: DependencyContainer) => create({ run: c.resolve(TOKENS.RunContext), options }, options) });
  });
}

/**
 * A dataset plugin from a plain object: no decorators, no container. `register` binds
 * TOKENS.Dataset to a caching factory, so the run's container makes one dataset per run.
 */
export function defineDataset<O extends z.ZodType>(def: DatasetDefinition<O>): Plugin<O> {
  return definePlainPlugin('dataset', def, (container, options, create) => {
    const factory = (c: DependencyContainer) => create({ run: c.resolve(TOKENS.RunContext), options }, options);
    container.register(TOKENS.Dataset, { useFactory: instanceCachingFactory(factory) });
  });
}

/**
 * A judge plugin (a scorer of open-ended answers) from a plain object: no decorators, no
 * container. `register` binds TOKENS.Judge to a caching factory, so the run's container makes
 * one judge per run and every evaluation of the run reuses it.
 */
export function defineJudge<O extends z.ZodType>(def: JudgeDefinition<O>): Plugin<O> {
  return definePlainPlugin('judge', def, (container, options, create) => {
    const factory = (c: DependencyContainer) => create({ run: c.resolve(TOKENS.RunContext), options }, options);
    container.register(TOKENS.Judge, { useFactory: instanceCachingFactory(factory) });
  });
}
