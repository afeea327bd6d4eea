/** Training-free few-shot heads: nearest class mean, cosine k-NN and the L-BFGS linear probe. */
export { extractFeatures, featureMean, l2Normalize, installLinearHead, installHeadModule } from './features.js';
export { fitNcm, ncmNearest, meansByClass, centerAndNormalize, type NcmHead, type NcmOptions } from './ncm.js';
export { KnnHead } from './knn.js';
export { fitProbe, probeSplit, PROBE_LAMBDAS, type ProbeOptions, type ProbeResult, type ProbeSweepRow } from './probe.js';
export { fitFewShotHead, HEAD_MODES, type HeadMode, type FewShotHeadOptions, type FewShotHeadResult } from './fit-head.js';
export { headRecord, restoreHead, checkHeadRecord, HEAD_KINDS, type HeadRecord } from './head-record.js';
