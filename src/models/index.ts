/** The model zoo: registry, the models, pretrained weights. */
export { ClassifierModel, chainStage, type ModelConfig, type PretrainedSource, type Stage } from './classifier.js';
export { createModel, getModelConfig, listModels, registerModel, resolveConfig, type CreateModelOptions, type ModelBuilder } from './registry.js';
export { SeedCnn, SEED_CNN_CONFIG } from './seed-cnn.js';
export { ResNet, BasicBlock, Bottleneck, RESNET_CONFIGS } from './resnet.js';
export { MobileNetV2, InvertedResidual, makeDivisible, MOBILENET_V2_CONFIGS } from './mobilenet-v2.js';
export { EfficientNet, MBConv, FusedMBConv, EFFICIENTNET_CONFIGS } from './efficientnet.js';
export { MobileNetV3, InvertedResidualV3, MOBILENET_V3_CONFIGS } from './mobilenet-v3.js';
export { RegNet, ResBottleneckBlock, regnetStages, REGNET_CONFIGS, type RegNetParams, type RegNetStages } from './regnet.js';
export { ConvNeXt, CNBlock, CONVNEXT_CONFIGS } from './convnext.js';
export { VisionTransformer, Encoder, EncoderBlock, VIT_CONFIGS } from './vision-transformer.js';
export { DinoVisionTransformer, DinoBlock, Mlp, DINOV2_CONFIGS } from './dinov2.js';
export { describesForward, residual, FLATTEN, GLOBAL_AVG_POOL, type DescribesForward, type ForwardStep } from './forward-spec.js';
export { adaptInputConv, loadPretrained, loadWeightsFile, readWeightsFile, type PretrainedReport } from './pretrained.js';
export { defaultWeightsDir, downloadVerified, resolvePretrained, sha256Matches, type ResolveOptions } from './weights-cache.js';
export { countMacs, measureModelCost, opMacs, type ModelCost } from './model-cost.js';
export { modelCosts, readMeasuredSpeeds, recordMeasuredSpeeds, type MeasuredSpeed } from './model-facts.js';
