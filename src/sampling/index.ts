/**
 * The leaf below data/ and transforms/: seeded random numbers, affine sampling maps and crop
 * boxes. It imports only src/tensor (and errors), so both layers above can share it.
 */
export { Rng, mixSeed } from './rng.js';
export { compose, rotation, translation, shear, zoom, crop, warp, thetaFor, IDENTITY, type AffineMap, type FillMode } from './affine.js';
export { sampleBox, centerBox, shorterSideSize, roundHalfEven, type Box, type Range } from './boxes.js';
