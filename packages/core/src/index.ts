// The plugin author's package: the contracts (Backbone, Wrapper, Dataset, Judge), define*,
// the seeded Rng, metrics, losses and optimizers. The runner lives in @bayes-peft/runner.
export * from './contracts';
export * from './plugin';
export * from './rng';
export * from './logger';
export * from './run-context';
export * from './lora-config';
export * from './errors';
export * from './metrics';
export * from './optim';
export * from './losses';
export * from './chat-template-context';
// Every environment variable, declared once: packages above core read them through readEnv.
export * from '@bayes-peft/env';
