/** Batch augmentation on tensors, its flag parser, and the PNG grid to look at it. */
export { Augmenter, type AugmentOptions, type AugmentParams } from './augment.js';
export { parseAugment, AUGMENT_PRESETS } from './augment-parse.js';
export { writeAugmentationGrid, type GridOptions, type GridImages } from './grid.js';
export { compose, rotation, translation, shear, zoom, crop, warp, thetaFor, IDENTITY, type AffineMap, type FillMode } from '../sampling/affine.js';
