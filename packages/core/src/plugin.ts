import type { z } from 'zod';
import type { BackboneLoader } from './contracts/backbone';
import type { Dataset } from './contracts/dataset';
import type { Judge } from './contracts/judge';
import type { Wrapper } from './contracts/wrapper';
import type { LoraConfig } from './lora-config';
import type { RunContext } from './run-context';

export const PLUGIN_KINDS = ['backbone', 'wrapper', 'dataset', 'judge'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** What a backbone's, dataset's or judge's `create` receives: the run (seed, Rng, log, hub, spec folder) and the plugin's parsed options. */
export interface PluginContext<O = unknown> {
  readonly run: RunContext;
  readonly options: O;
}

/** What a wrapper's `create` receives: the run, the spec's `lora:` section and the plugin's parsed options. */
export interface WrapperContext<O = unknown> extends PluginContext<O> {
  readonly lora: LoraConfig;
}

export type BackboneContext<O = unknown> = PluginContext<O>;
export type DatasetContext<O = unknown> = PluginContext<O>;
export type JudgeContext<O = unknown> = PluginContext<O>;

/** What every plugin definition has: the fields `bayes-peft plugins` lists and the options schema. */
interface DefinitionBase<O extends z.ZodType> {
  /** Short name a spec uses (`blob`); unique per kind. */
  readonly name: string;
  /** Read it from the package's package.json (`require('../package.json').version`). */
  readonly version: string;
  readonly description: string;
  /** Package the plugin ships in, for messages and `bayes-peft plugins`. */
  readonly packageName?: string;
  /** Validates, defaults and documents the spec section the plugin reads. */
  readonly options: O;
}

export interface WrapperDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /** Makes the run's wrapper; called once per run. */
  create(ctx: WrapperContext<z.output<O>>): Wrapper;
}

export interface BackboneDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /** Makes the run's backbone loader (whose `load()` the run session awaits); `options` is `ctx.options`. */
  create(ctx: BackboneContext<z.output<O>>, options: z.output<O>): BackboneLoader;
}

export interface DatasetDefinition<O extends z.ZodType> extends DefinitionBase<O> {
  /**
   * What the dataset's `create` makes: multiple-choice (`'mcq'`) or open-ended (`'open'`) QA.
   * Declared up front so a spec is checked against its task (generation settings, MCQ-only
   * options) before any model loads; the runner also checks that the dataset made agrees.
   */
  readonly task: Dataset['kind'];
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

export type WrapperPlugin<O extends z.ZodType = z.ZodType> = WrapperDefinition<O> & { readonly kind: 'wrapper' };
export type BackbonePlugin<O extends z.ZodType = z.ZodType> = BackboneDefinition<O> & { readonly kind: 'backbone' };
export type DatasetPlugin<O extends z.ZodType = z.ZodType> = DatasetDefinition<O> & { readonly kind: 'dataset' };
export type JudgePlugin<O extends z.ZodType = z.ZodType> = JudgeDefinition<O> & { readonly kind: 'judge' };

/**
 * What a plugin package default-exports: a plain, frozen object made by one of the define*
 * functions. It never sees the run's container: the runner calls `create` with what the
 * plugin needs (and caches what it makes for the run).
 */
export type Plugin<O extends z.ZodType = z.ZodType> = WrapperPlugin<O> | BackbonePlugin<O> | DatasetPlugin<O> | JudgePlugin<O>;

/** A wrapper plugin (a UQ method) from a plain object. */
export function defineWrapper<O extends z.ZodType>(def: WrapperDefinition<O>): WrapperPlugin<O> {
  return definePlugin('wrapper', def);
}

/** A backbone plugin from a plain object. */
export function defineBackbone<O extends z.ZodType>(def: BackboneDefinition<O>): BackbonePlugin<O> {
  return definePlugin('backbone', def);
}

/** A dataset plugin from a plain object. */
export function defineDataset<O extends z.ZodType>(def: DatasetDefinition<O>): DatasetPlugin<O> {
  if (def?.task !== 'mcq' && def?.task !== 'open') {
    throw new Error(`defineDataset: 'task' must be 'mcq' or 'open' (dataset '${def?.name ?? '?'}'), got ${JSON.stringify(def?.task)}`);
  }
  return definePlugin('dataset', def);
}

/** A judge plugin (a scorer of open-ended answers) from a plain object. */
export function defineJudge<O extends z.ZodType>(def: JudgeDefinition<O>): JudgePlugin<O> {
  return definePlugin('judge', def);
}

/** What every define* shares: the required fields checked up front, the kind added, the object frozen. */
function definePlugin<K extends PluginKind, D extends DefinitionBase<z.ZodType> & { create: unknown }>(kind: K, def: D): D & { readonly kind: K } {
  const fn = `define${kind[0].toUpperCase()}${kind.slice(1)}`;
  for (const field of ['name', 'version', 'options', 'create'] as const) {
    if (def?.[field] === undefined) throw new Error(`${fn}: '${field}' is required (${kind} '${def?.name ?? '?'}')`);
  }
  if (typeof def.create !== 'function') throw new Error(`${fn}: 'create' must be a function (${kind} '${def.name}')`);
  return Object.freeze({ ...def, kind });
}

/** Whether a module's export is a plugin made by one of the define* functions. */
export function isPlugin(value: unknown): value is Plugin {
  const v = value as Partial<Plugin> | null;
  return !!v && typeof v === 'object' && typeof v.name === 'string' && typeof v.create === 'function' && (PLUGIN_KINDS as readonly string[]).includes(v.kind as string);
}
