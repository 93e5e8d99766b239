import type { InjectionToken } from 'tsyringe';
import type { Backbone, Dataset, Evaluator, Judge, Wrapper } from './contracts';
import type { RunContext } from './run-context';

/** Loads the backbone; async, so it is resolved first and the Backbone bound as a value. */
export interface BackboneLoader {
  load(): Promise<Backbone>;
}

/**
 * The injection tokens of the core contracts. A plugin binds its class to one of these in
 * `register` and asks for the others in its constructor; it never imports another plugin.
 */
export const TOKENS = {
  RunContext: Symbol.for('bayes-peft.RunContext') as InjectionToken<RunContext>,
  BackboneLoader: Symbol.for('bayes-peft.BackboneLoader') as InjectionToken<BackboneLoader>,
  Backbone: Symbol.for('bayes-peft.Backbone') as InjectionToken<Backbone>,
  Dataset: Symbol.for('bayes-peft.Dataset') as InjectionToken<Dataset>,
  Wrapper: Symbol.for('bayes-peft.Wrapper') as InjectionToken<Wrapper>,
  Evaluator: Symbol.for('bayes-peft.Evaluator') as InjectionToken<Evaluator>,
  Judge: Symbol.for('bayes-peft.Judge') as InjectionToken<Judge>,
  /** The run spec's `lora:` section, for wrappers that install LoRA adapters. */
  LoraConfig: Symbol.for('bayes-peft.LoraConfig') as InjectionToken<import('./spec/lora').LoraConfig>,
} as const;
