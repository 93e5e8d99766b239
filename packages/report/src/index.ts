export * from './data';
export { renderSvg, reliabilitySpec, reliabilityComparisonSpec, histogramSpec, linesSpec, panelsSpec } from './charts';
export { findRunDirs, loadRuns, type LoadedRun } from './load';
export { buildReport, tableHtml, runConfidence, escapeHtml, CURVE_KEYS, type ReportFigure, type ReportOptions } from './html';
export { chartMarks } from './marks';
