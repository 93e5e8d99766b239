// Row sources for dataset plugins: local files and folders or hub datasets, with file and line
// in every error.
export * from './errors';
export { readRows, parseJsonLines, rowFormatOf, typeName, isPlainObject, ROW_FORMATS, type DataRow, type RowValues, type RowFormat, type ReadRowsOptions } from './read';
export * from './fields';
export * from './subset';
export * from './split';
export * from './normalize-answer';
export * from './references';
export * from './option-fields';
