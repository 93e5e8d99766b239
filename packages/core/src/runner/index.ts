export * from './experiment';
export * from './evaluate';
export * from './mcq-batch';
export * from './progress';
export * from './run-folder';
export * from './train-loop';
export * from './summary-table';
export * from './calibrate';
