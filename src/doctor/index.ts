/** The data doctor: corrupt files, duplicates, leakage across splits, balance, sizes, modes and likely label errors. */
export { diagnose, CHEAP_DOCTOR, type DoctorOptions, type DoctorReport, type DoctorFile, type FeatureFn } from './doctor.js';
export { scanFolder, type FolderScan, type ScannedImage, type BadImage, type ImageMode, type ScanOptions } from './scan.js';
export { describePixels, tinyVector, coarseVector, pixelFeatures, hamming, TINY_DIM, COARSE_DIM, PIXEL_FEATURE_DIM, type Descriptors } from './descriptors.js';
export { exactGroups, cosinePairs, tinyPairs, hashPairs, groupPairs, NEAR_DEFAULTS, type NearMethod, type NearPair } from './duplicates.js';
export { findLabelIssues, outOfFoldProbabilities, stratifiedFolds, type LabelIssue, type LabelErrorOptions } from './label-errors.js';
export { classBalance, sizeOutliers, colourModes, IMBALANCE_RATIO, type Imbalance, type SizeReport, type ModeReport } from './checks.js';
export { renderDoctorReport } from './html.js';
export { formatDoctorReport } from './summary.js';
