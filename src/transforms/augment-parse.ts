/**
 * The `--augment` flag: a preset, key=value settings, or a preset followed by overrides
 * (`light,rotation=15`).
 *
 * Presets:
 * - `none`: no augmentation.
 * - `spec`: the spec's ImageDataGenerator: rotation 10, shifts 0.1, shear 0.1 (degrees, as
 *   Keras reads it), zoom 0.1, horizontal flip. The flip is wrong for digits (a flipped 2 is
 *   no 2); it is here to reproduce the spec.
 * - `light`: small geometric changes without flips, good for digits and other oriented data:
 *   rotation 10, shifts 0.1, zoom 0.1.
 * - `standard`: natural images: random resized crop (scale 0.25-1), horizontal flip,
 *   brightness and contrast 0.1.
 */
import { TlcvError } from '../errors.js';
import type { AugmentOptions } from './augment.js';

export const AUGMENT_PRESETS: Record<string, AugmentOptions> = {
  none: {},
  spec: { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, shearRange: 0.1, zoomRange: 0.1, horizontalFlip: true },
  light: { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.1 },
  standard: { randomResizedCrop: { scale: [0.25, 1] }, horizontalFlip: true, brightness: 0.1, contrast: 0.1 },
};

type Setter = (o: AugmentOptions, v: string, key: string) => void;

function number(key: string, v: string, min: number, max: number): number {
  const x = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw new TlcvError('ARGUMENT', `--augment ${key}=${v}: expected a number in [${min}, ${max}]`);
  return x;
}

function pair(key: string, v: string, min: number, max: number): [number, number] {
  const parts = v.split(':');
  if (parts.length !== 2) throw new TlcvError('ARGUMENT', `--augment ${key}=${v}: expected LOW:HIGH`);
  const r = parts.map((p) => number(key, p, min, max)) as [number, number];
  if (r[0] > r[1]) throw new TlcvError('ARGUMENT', `--augment ${key}=${v}: LOW is above HIGH`);
  return r;
}

function flag(key: string, v: string): boolean {
  if (['1', 'true', 'yes', 'on', ''].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new TlcvError('ARGUMENT', `--augment ${key}=${v}: expected 1 or 0`);
}

const KEYS: Record<string, Setter> = {
  rotation: (o, v, k) => {
    o.rotationRange = v.includes(':') ? pair(k, v, -360, 360) : number(k, v, 0, 360);
  },
  shift: (o, v, k) => {
    o.widthShiftRange = o.heightShiftRange = number(k, v, 0, 1);
  },
  'width-shift': (o, v, k) => {
    o.widthShiftRange = number(k, v, 0, 1);
  },
  'height-shift': (o, v, k) => {
    o.heightShiftRange = number(k, v, 0, 1);
  },
  shear: (o, v, k) => {
    o.shearRange = number(k, v, 0, 89);
  },
  zoom: (o, v, k) => {
    o.zoomRange = v.includes(':') ? pair(k, v, 0.01, 100) : number(k, v, 0, 0.99);
  },
  hflip: (o, v, k) => {
    o.horizontalFlip = flag(k, v);
  },
  vflip: (o, v, k) => {
    o.verticalFlip = flag(k, v);
  },
  crop: (o, v, k) => {
    o.randomResizedCrop = v === '' || v === '1' ? true : v === '0' ? false : { scale: v.includes(':') ? pair(k, v, 0.01, 1) : [number(k, v, 0.01, 1), 1] };
  },
  brightness: (o, v, k) => {
    o.brightness = number(k, v, 0, 1);
  },
  contrast: (o, v, k) => {
    o.contrast = number(k, v, 0, 1);
  },
  erase: (o, v, k) => {
    o.randomErasing = v === '' ? 0.5 : number(k, v, 0, 1);
  },
  fill: (o, v, k) => {
    if (v !== 'nearest' && v !== 'constant' && v !== 'reflect') throw new TlcvError('ARGUMENT', `--augment ${k}=${v}: expected nearest, constant or reflect`);
    o.fillMode = v;
  },
  'fill-value': (o, v, k) => {
    o.fillValue = number(k, v, 0, 1);
  },
  rescale: (o, v, k) => {
    o.rescale = number(k, v, -1e6, 1e6);
  },
};

const HELP = `a preset (${Object.keys(AUGMENT_PRESETS).join(', ')}), key=value settings (${Object.keys(KEYS).join(', ')}), or a preset followed by settings, e.g. light,rotation=15`;

/**
 * Parses the `--augment` flag into Augmenter options.
 *
 * @example
 * parseAugment('light');                     // rotation 10, shifts 0.1, zoom 0.1
 * parseAugment('rotation=15,hflip,crop=0.5'); // crop scale [0.5, 1]
 */
export function parseAugment(text: string): AugmentOptions {
  const src = (text ?? '').trim();
  if (src === '') throw new TlcvError('ARGUMENT', `--augment is empty: expected ${HELP}`);
  const tokens = src.split(',').map((t) => t.trim());
  let out: AugmentOptions = {};
  const seen = new Set<string>();
  tokens.forEach((token, i) => {
    if (token === '') throw new TlcvError('ARGUMENT', `--augment "${text}" has an empty setting (two commas or a trailing comma)`);
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? '' : token.slice(eq + 1);
    if (i === 0 && eq < 0 && key in AUGMENT_PRESETS) {
      out = structuredClone(AUGMENT_PRESETS[key]!);
      return;
    }
    if (key in AUGMENT_PRESETS) throw new TlcvError('ARGUMENT', `--augment "${text}": preset "${key}" must come first`);
    const set = KEYS[key];
    if (set === undefined) throw new TlcvError('ARGUMENT', `--augment "${text}": unknown setting "${key}"; expected ${HELP}`);
    if (seen.has(key)) throw new TlcvError('ARGUMENT', `--augment "${text}": "${key}" is given twice`);
    seen.add(key);
    const boolean = key === 'hflip' || key === 'vflip' || key === 'crop' || key === 'erase';
    if (eq < 0 && !boolean) throw new TlcvError('ARGUMENT', `--augment "${text}": "${key}" needs a value (${key}=VALUE)`);
    set(out, value, key);
  });
  return out;
}
