/** Deploying a model: ONNX export, the offline web page, and the HTTP server. */
export { exportOnnx, engineOnnx, exportMetadata, tlcvVersion, ONNX_OPSET, type OnnxExportOptions } from './onnx-export.js';
export { exportModel, onnxOf, onnxRefusal, webFilesOf, EXPORT_FORMATS, type ExportFormat, type ExportRequest, type ExportSource } from './export.js';
export { checkImageInput, preprocessingMetadata } from './preprocess.js';
export { describePrediction, parseUnknown, unknownThreshold, withTemperature, type UnknownSetting, type ImagePredictor, type Prediction, type PredictionReport, type TopClass } from './prediction.js';
export { webBundle, writeWebFolder, prepareWebBundle, EMBED_MODEL_MAX_BYTES, type WebFile } from './web-bundle.js';
export { startServer, SERVE_DEFAULTS, type RunningServer, type ServeOptions } from './server.js';
export { IdleMemoryRelease } from './idle-memory.js';
export { MicroBatcher, type BatcherOptions } from './batcher.js';
export { InferenceEngine, type EngineSettings, type LogitsForward, type PixelInput } from './engine.js';
export { ENGINES, batchBucket, chooseEngine, describeSession, engineCacheKey, type ChoiceRequest, type EngineChoice, type EngineName, type EngineRequest } from './engine-choice.js';
export { OrtSession, engineSessionOptions, loadOnnxruntime, openOrtSessions, type OrtSessionOptions } from './ort-session.js';
