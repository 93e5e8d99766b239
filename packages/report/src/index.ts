export * from './data';
export { renderSvg, reliabilitySpec, histogramSpec, linesSpec } from './charts';
export { findRunDirs, loadRuns, type LoadedRun } from './load';
export { buildReport, tableHtml, runConfidence, escapeHtml, CURVE_KEYS, type ReportOptions } from './html';
export { chartMarks } from './marks';
