/** Deploying a model folder: ONNX export, the offline web page, and the HTTP server. */
export { exportOnnx, exportMetadata, tlcvVersion, ONNX_OPSET, type OnnxExportOptions } from './onnx-export.js';
export { exportModelFolder, EXPORT_FORMATS, type ExportFormat } from './export.js';
export { checkImageInput, preprocessingMetadata } from './preprocess.js';
export { ImageClassifier, describePrediction, type Prediction, type PredictionReport, type TopClass } from './classifier.js';
export { webBundle, writeWebFolder, type WebFile } from './web-bundle.js';
export { startServer, SERVE_DEFAULTS, type RunningServer, type ServeOptions } from './server.js';
export { MicroBatcher, type BatcherOptions } from './batcher.js';
