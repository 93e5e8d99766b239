export * from './class-nll';
export * from './train-objective';
