/** Unsupervised domain adaptation: AdaBN, DANN's pieces and class-balanced pseudo-labelling. */
export { adaptBatchNorm, batchNormLayers, checkAdaBnApplies, type AdaBnResult } from './adabn.js';
export {
  DannObjective,
  DomainDiscriminator,
  dannLambda,
  domainAdversarialLoss,
  type DannLoss,
  type DannOptions,
  type DomainDiscriminatorOptions,
  type DomainLoss,
} from './dann.js';
export {
  withoutLabels,
  predictProbabilities,
  selectPseudoLabels,
  pseudoLabelledDataset,
  pseudoLabelRound,
  type PseudoLabelOptions,
  type PseudoLabelSelection,
} from './pseudo-label.js';
