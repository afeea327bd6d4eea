// The shape photo folders are made by the fit bench too (src/bench/fit), so the generator lives there.
export { SHAPES, shapePhoto, writeShapeFolder } from '../../src/bench/fit/shape-photos.js';
