import 'reflect-metadata';

export * from './contracts';
export * from './tokens';
export * from './plugin';
export * from './rng';
export * from './logger';
export * from './run-context';
export * from './spec';
export * from './errors';
export * from './metrics';
export * from './optim';
export * from './losses';
export * from './registry';
export * from './chat-template-context';
export * from './runner';
// Every environment variable, declared once: packages above core read them through readEnv.
export * from '@bayes-peft/env';
