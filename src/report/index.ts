export { renderReport } from './render.js';
export { writeReport } from './write.js';
export { encodePng } from './png.js';
export { lineChart, formatValue } from './line-chart.js';
export type { LineChartOptions, LineSeries } from './line-chart.js';
export { confusionHeatmap, perClassBars } from './class-charts.js';
export { escapeHtml } from './svg.js';
export type { ReportData, EpochRecord, WorstImage, ComparisonTable, LearningCurve } from './types.js';
export { REPORT_CSS } from './style.js';
