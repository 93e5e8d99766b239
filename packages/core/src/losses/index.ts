export * from './class-nll';
