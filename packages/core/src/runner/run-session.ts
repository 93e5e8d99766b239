import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { Backbone } from '../contracts';
import type { Plugin } from '../plugin';
import type { RunContext } from '../run-context';
import type { LoraConfig } from '../spec/lora';
import { TOKENS } from '../tokens';

/** A plugin with its options, already parsed by the plugin's own schema. */
export interface SessionPlugin {
  readonly plugin: Plugin;
  readonly options: unknown;
}

export interface RunSessionOptions {
  /** The run context every plugin may inject (TOKENS.RunContext). */
  readonly context: RunContext;
  /** The spec's `lora:` section (TOKENS.LoraConfig); leave it out where nothing is adapted (a dataset alone). */
  readonly lora?: LoraConfig;
  /** The plugins to register, in this order; leave out the ones a caller does not need. */
  readonly backbone?: SessionPlugin;
  readonly dataset?: SessionPlugin;
  readonly wrapper?: SessionPlugin;
}

/** One run's dependency-injection container and what it was built from. */
export interface RunSession {
  readonly container: DependencyContainer;
  readonly context: RunContext;
  /**
   * Loads the backbone through the registered TOKENS.BackboneLoader and registers it as
   * TOKENS.Backbone, so the wrapper (resolved afterwards) gets the loaded model injected.
   */
  loadBackbone(): Promise<Backbone>;
  /** Drops the container's cached instances (the caller disposes the models it resolved). */
  close(): void;
}

/**
 * The one place a run's container is set up, so the runner (`bayes-peft experiment`), the
 * benchmark harness, plugin-testkit's `createWrapper`, `instantiateDataset` and the CLI's dataset
 * preview all build the same thing: a child of tsyringe's root container holding the run
 * context and the LoRA config, then each given plugin's own `register` with its parsed options
 * (backbone, dataset, wrapper). A plugin whose registration or injection is wrong fails the same
 * way everywhere.
 */
export function createRunSession(options: RunSessionOptions): RunSession {
  const container = rootContainer.createChildContainer();
  container.register(TOKENS.RunContext, { useValue: options.context });
  if (options.lora) container.register(TOKENS.LoraConfig, { useValue: options.lora });
  for (const p of [options.backbone, options.dataset, options.wrapper]) {
    if (p) p.plugin.register(container, p.options as never);
  }
  return {
    container,
    context: options.context,
    async loadBackbone() {
      const backbone = await container.resolve(TOKENS.BackboneLoader).load();
      container.register(TOKENS.Backbone, { useValue: backbone });
      return backbone;
    },
    close: () => container.clearInstances(),
  };
}
