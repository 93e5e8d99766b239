// The run engine behind `bayes-peft experiment`: the run spec, the plugin registry and the
// run's container (createRunSession), training, calibration, evaluation and the run folder.
// Plugin authors need @bayes-peft/core only.
import 'reflect-metadata';

export * from './spec/schema';
export * from './spec/matrix';
export * from './spec/load';
export * from './spec/describe-options';
export * from './registry';
export * from './tokens';
export * from './run-session';
export * from './experiment';
export * from './run-select';
export * from './run-lock';
export * from './run-status';
export * from './collect';
export * from './results-csv';
export * from './evaluate';
export * from './mcq-batch';
export * from './answer-batch';
export * from './batch-maker';
export * from './progress';
export * from './run-folder';
export * from './train-loop';
export * from './summary-table';
export * from './calibrate';
export * from './eval-engine';
export * from './checkpoint';
export * from './rescore';
