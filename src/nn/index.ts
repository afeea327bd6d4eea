/** Neural-network building blocks: the Module tree, layers, init and losses. */
export { Module, type ToOptions } from './module.js';
export { type LoadReport, type ShapeMismatch, type StateDictInput, checkStateDict, describeProblems, toStateMap } from './state-dict.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export { Linear } from './linear.js';
export { BatchNorm2d, type BatchNorm2dOptions } from './batchnorm.js';
export { foldConvBn } from './fold.js';
export { foldedForInference, type FoldedInference, type FoldedInferenceOptions, type FoldedPair } from './folded-inference.js';
export { ReLU, ReLU6 } from './activation.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type PoolOptions } from './pooling.js';
export { Dropout, Flatten, Identity } from './basic.js';
export { Sequential } from './sequential.js';
export { CrossEntropyLoss, type CrossEntropyLossOptions } from './losses.js';
export * as init from './init.js';
export { StochasticDepth, type StochasticDepthMode } from './stochastic-depth.js';
export { Sigmoid, SiLU, Hardsigmoid, Hardswish, InplaceActivation } from './sigmoid-activations.js';
export { SqueezeExcitation, type SqueezeExcitationOptions } from './squeeze-excitation.js';
export { conv2dNormActivation, type ConvNormActivationOptions } from './conv-norm-activation.js';
