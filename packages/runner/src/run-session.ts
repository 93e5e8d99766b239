import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer, type InjectionToken } from 'tsyringe';
import type { Backbone, Dataset, Judge, LoraConfig, Plugin, RunContext, Wrapper } from '@bayes-peft/core';
import { TOKENS } from './tokens';

/** A plugin with its options, already parsed by the plugin's own schema. */
export interface SessionPlugin {
  readonly plugin: Plugin;
  readonly options: unknown;
}

export interface RunSessionOptions {
  /** The run context every plugin receives. */
  readonly context: RunContext;
  /** The spec's `lora:` section, for the wrapper; leave it out where nothing is adapted (a dataset alone). */
  readonly lora?: LoraConfig;
  /** The plugins of the run; leave out the ones a caller does not need. */
  readonly backbone?: SessionPlugin;
  readonly dataset?: SessionPlugin;
  readonly wrapper?: SessionPlugin;
  readonly judge?: SessionPlugin;
  /** A second judge that compares answers for semantic uncertainty (the spec's `semantic.comparer`), when it names a plugin. */
  readonly comparer?: SessionPlugin;
}

/** One run's container and what it was built from. */
export interface RunSession {
  readonly container: DependencyContainer;
  readonly context: RunContext;
  /** Loads the backbone through its plugin's loader (the caller attaches the wrapper to it). */
  loadBackbone(): Promise<Backbone>;
  /** The run's dataset, wrapper and judge: made on first use, the same object after. */
  dataset(): Dataset;
  wrapper(): Wrapper;
  judge(): Judge;
  /** The `semantic.comparer` judge: made on first use, the same object after. */
  comparer(): Judge;
  /** Drops the container's cached instances (the caller disposes the models it resolved). */
  close(): void;
}

/**
 * The one place a run's plugins are wired, so the runner (`bayes-peft experiment`), the benchmark
 * harness, plugin-testkit's `createWrapper` and the CLI's dataset preview all build the same
 * thing: a child of tsyringe's root container holding the run context and the LoRA config, and
 * each given plugin's `create` bound to its contract's token (one instance per run). Plugins
 * never see the container: they get what their `create` asks for.
 */
export function createRunSession(options: RunSessionOptions): RunSession {
  const container = rootContainer.createChildContainer();
  container.register(TOKENS.RunContext, { useValue: options.context });
  if (options.lora) container.register(TOKENS.LoraConfig, { useValue: options.lora });
  for (const p of [options.backbone, options.dataset, options.wrapper, options.judge]) {
    if (p) bindPlugin(container, p.plugin, p.options);
  }
  if (options.comparer) bindPlugin(container, options.comparer.plugin, options.comparer.options, TOKENS.Comparer);
  const resolve = <T>(token: InjectionToken<T>, kind: string): T => {
    if (!container.isRegistered(token)) throw new Error(`this run session has no ${kind} plugin`);
    return container.resolve(token);
  };
  return {
    container,
    context: options.context,
    loadBackbone: () => resolve(TOKENS.BackboneLoader, 'backbone').load(),
    dataset: () => resolve(TOKENS.Dataset, 'dataset'),
    wrapper: () => resolve(TOKENS.Wrapper, 'wrapper'),
    judge: () => resolve(TOKENS.Judge, 'judge'),
    comparer: () => resolve(TOKENS.Comparer, 'comparer'),
    close: () => container.clearInstances(),
  };
}

/** Binds a plugin's `create` to its contract's token (a judge: `judgeToken`): a caching factory, so a run makes one of each. */
function bindPlugin(container: DependencyContainer, plugin: Plugin, options: unknown, judgeToken: InjectionToken<Judge> = TOKENS.Judge): void {
  const run = (c: DependencyContainer) => c.resolve(TOKENS.RunContext);
  switch (plugin.kind) {
    case 'backbone':
      container.register(TOKENS.BackboneLoader, { useFactory: instanceCachingFactory((c) => plugin.create({ run: run(c), options }, options)) });
      return;
    case 'dataset':
      container.register(TOKENS.Dataset, { useFactory: instanceCachingFactory((c) => plugin.create({ run: run(c), options }, options)) });
      return;
    case 'wrapper':
      container.register(TOKENS.Wrapper, {
        useFactory: instanceCachingFactory((c) => {
          if (!c.isRegistered(TOKENS.LoraConfig)) throw new Error(`wrapper '${plugin.name}': the run session has no LoRA config`);
          return plugin.create({ run: run(c), lora: c.resolve(TOKENS.LoraConfig), options });
        }),
      });
      return;
    case 'judge':
      container.register(judgeToken, { useFactory: instanceCachingFactory((c) => plugin.create({ run: run(c), options }, options)) });
      return;
  }
}
