// Image to model input in the browser, following the preprocessing the model folder recorded,
// as it is in the model's metadata (timm's names): flatten transparency over the background,
// convert to gray or RGB, resize to cover input_size / crop_pct (the aspect kept, or stretched
// under resize "fill"), crop the centre input_size. The sizes and the crop's place are
// computed as tlcv's storedSize and centerBox compute them. Plain functions on pixel arrays, so
// Node can test them against tlcv's own decoder.

const JSON_KEYS = ['classes', 'input_size', 'crop_pct', 'mean', 'std'];
// tlcv resizes images of at most this many pixels a side under a whole-image record (digits)
// with libtorch's bilinear resize, as their folder was at training, rather than with libvips.
const SMALL_IMAGE_MAX = 64;

/** metadata.json (the ONNX metadata_props: lists and numbers as JSON text) as values. */
export function readMetadata(props) {
  const meta = { ...props };
  for (const k of JSON_KEYS) {
    if (typeof props[k] !== 'string') throw new Error(`metadata.json has no "${k}"`);
    meta[k] = JSON.parse(props[k]);
  }
  return meta;
}

// Resampling kernels on a unit grid; each is widened by the shrink factor when shrinking, so a
// shrink averages every source pixel (as PIL, libvips and torchvision's antialias do).
const KERNELS = {
  lanczos: null,
  nearest: { support: 0.5, f: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0) },
  bilinear: { support: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      return t < 2 ? (((t - 5) * t + 8) * t - 4) * a : 0;
    },
  },
  lanczos3: {
    support: 3,
    f: (x) => {
      if (x === 0) return 1;
      if (Math.abs(x) >= 3) return 0;
      const p = Math.PI * x;
      return (3 * Math.sin(p) * Math.sin(p / 3)) / (p * p);
    },
  },
};
KERNELS.lanczos = KERNELS.lanczos3;

/**
 * For each output index along one axis: the first source index and the normalised weights.
 * Enlarging with lanczos3, libvips (sharp, tlcv's decoder) interpolates bicubically instead.
 * `torch` follows libtorch's bilinear resize (antialiased when shrinking) instead of libvips.
 */
function axisWeights(inSize, outSize, interpolation, torch) {
  const scale = inSize / outSize;
  const kernel = KERNELS[scale < 1 && interpolation.startsWith('lanczos') ? 'bicubic' : interpolation];
  const widen = Math.max(scale, 1);
  const support = kernel.support * widen;
  const out = [];
  for (let i = 0; i < outSize; i += 1) {
    // Enlarging, libvips (sharp, tlcv's decoder) samples output pixel i at source i * scale - 0.5;
    // libtorch (align_corners false) at (i + 0.5) * scale - 0.5.
    const centre = scale < 1 && !torch ? i * scale : (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    const w = [];
    let sum = 0;
    for (let j = lo; j < hi; j += 1) {
      const v = kernel.f((j + 0.5 - centre) / widen);
      w.push(v);
      sum += v;
    }
    out.push({ lo, w: w.map((v) => (sum === 0 ? 0 : v / sum)) });
  }
  return out;
}

/** Separable resize of one float plane (width w, height h) to (tw, th). */
function resizePlane(plane, w, h, tw, th, interpolation, torch) {
  const across = axisWeights(w, tw, interpolation, torch);
  const down = axisWeights(h, th, interpolation, torch);
  const mid = new Float32Array(tw * h);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < tw; x += 1) {
      const { lo, w: ws } = across[x];
      let v = 0;
      for (let k = 0; k < ws.length; k += 1) v += ws[k] * plane[y * w + lo + k];
      mid[y * tw + x] = v;
    }
  }
  const out = new Float32Array(tw * th);
  for (let y = 0; y < th; y += 1) {
    const { lo, w: ws } = down[y];
    for (let x = 0; x < tw; x += 1) {
      let v = 0;
      for (let k = 0; k < ws.length; k += 1) v += ws[k] * mid[(lo + k) * tw + x];
      out[y * tw + x] = v;
    }
  }
  return out;
}

const toLinear = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const toSrgb = (v) => (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055);

/** RGBA bytes to `channels` float planes in [0, 255], transparency over the background. */
function toPlanes(rgba, n, channels, background) {
  const bg = background === 'white' ? 255 : 0;
  const rgb = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let p = 0; p < n; p += 1) {
    const a = rgba[4 * p + 3] / 255;
    for (let c = 0; c < 3; c += 1) rgb[c][p] = rgba[4 * p + c] * a + bg * (1 - a);
  }
  if (channels === 3) return rgb;
  // Gray as libvips makes it: Rec. 709 luminance in linear light, back to sRGB.
  const gray = new Float32Array(n);
  for (let p = 0; p < n; p += 1) {
    const y = 0.2126 * toLinear(rgb[0][p] / 255) + 0.7152 * toLinear(rgb[1][p] / 255) + 0.0722 * toLinear(rgb[2][p] / 255);
    gray[p] = 255 * toSrgb(y);
  }
  return [gray];
}

/** Python's round(), halves to even, with which torchvision's CenterCrop places its box. */
function roundHalfEven(v) {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** The size an image is resized to before the centre crop (tlcv's storedSize). */
export function resizeTarget(width, height, meta) {
  const [, h, w] = meta.input_size;
  const crop = meta.crop_pct;
  const th = Math.floor(h / crop);
  const tw = Math.floor(w / crop);
  if (meta.resize === 'fill') return { tw, th };
  if (th === tw) {
    // torchvision's Resize(int): the short side to the size, the long one floored.
    if (height <= width) return { th, tw: Math.max(1, Math.floor((th * width) / height)) };
    return { th: Math.max(1, Math.floor((th * height) / width)), tw };
  }
  const s = Math.max(th / height, tw / width);
  return { th: Math.max(th, Math.floor(height * s)), tw: Math.max(tw, Math.floor(width * s)) };
}

/**
 * RGBA pixels of an image (width x height) to the model's input: float32 [1, C, H, W] of
 * whole numbers in [0, 255], as tlcv's decoder rounds to bytes.
 */
export function toModelInput(rgba, width, height, meta) {
  const [channels, h, w] = meta.input_size;
  if (!(meta.interpolation in KERNELS)) throw new Error(`unknown interpolation "${meta.interpolation}" in the model's metadata`);
  const torch = Math.max(width, height) <= SMALL_IMAGE_MAX && meta.resize === 'fill' && meta.crop_pct === 1;
  const { tw, th } = resizeTarget(width, height, meta);
  const top = roundHalfEven((th - h) / 2);
  const left = roundHalfEven((tw - w) / 2);
  const out = new Float32Array(channels * h * w);
  toPlanes(rgba, width * height, channels, meta.background).forEach((plane, c) => {
    const resized = tw === width && th === height ? plane : resizePlane(plane, width, height, tw, th, torch ? 'bilinear' : meta.interpolation, torch);
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const v = resized[(y + top) * tw + x + left];
        out[c * h * w + y * w + x] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
  });
  return out;
}
