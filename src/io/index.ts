/** Weight files: safetensors (read and write), PyTorch .pth (read, no pickled code runs), atomic writes. */
export {
  readSafetensors,
  parseSafetensors,
  readSafetensorsMetadata,
  readSafetensorsHeader,
  parseSafetensorsHeader,
  writeSafetensors,
  serializeSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors.js';
export { readPth } from './pth.js';
export { writeFileAtomic, type FileData } from './atomic-write.js';
