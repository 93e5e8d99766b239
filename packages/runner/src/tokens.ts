import type { InjectionToken } from 'tsyringe';
import type { BackboneLoader, Dataset, Judge, LoraConfig, RunContext, Wrapper } from '@bayes-peft/core';

/** The run container's tokens: what createRunSession binds each plugin's `create` to. Plugins never see them. */
export const TOKENS = {
  RunContext: Symbol.for('bayes-peft.RunContext') as InjectionToken<RunContext>,
  BackboneLoader: Symbol.for('bayes-peft.BackboneLoader') as InjectionToken<BackboneLoader>,
  Dataset: Symbol.for('bayes-peft.Dataset') as InjectionToken<Dataset>,
  Wrapper: Symbol.for('bayes-peft.Wrapper') as InjectionToken<Wrapper>,
  Judge: Symbol.for('bayes-peft.Judge') as InjectionToken<Judge>,
  /** A second judge, the spec's `semantic.comparer`: compares answers with each other. */
  Comparer: Symbol.for('bayes-peft.Comparer') as InjectionToken<Judge>,
  /** The run spec's `lora:` section, for the wrapper. */
  LoraConfig: Symbol.for('bayes-peft.LoraConfig') as InjectionToken<LoraConfig>,
} as const;
