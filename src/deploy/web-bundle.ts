/**
 * The offline web page of a model: index.html and its scripts (src/deploy/web), model.onnx,
 * metadata.json (the ONNX file's metadata_props, which the page reads its classes and
 * preprocessing from), labels.txt, and onnxruntime-web's wasm build taken from its npm package.
 * `tlcv export --format web` writes these files to a folder; `tlcv serve` serves the same list.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** One file of the page: bytes made here, or a file copied from a package. */
export type WebFile = { name: string; data: Uint8Array | string } | { name: string; path: string };

/** onnxruntime-web's ES-module wasm build and what it loads at run time. */
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const PAGE_FILES = ['index.html', 'app.js', 'preprocess.js'];

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

/** src/deploy/web of this package, found by walking up from this file (it is not compiled). */
function pageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'src', 'deploy', 'web');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new TlcvError('FILE', `src/deploy/web/index.html not found above ${fileURLToPath(import.meta.url)}: the web page ships with the package`);
}

function ortDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
  } catch {
    throw new TlcvError('FILE', 'onnxruntime-web is not installed: run npm install in the tlcv folder (the web page takes its wasm files from that package)');
  }
}

const README = `A tlcv model as a web page that runs in the browser, offline.

Serve this folder with any static file server and open it, e.g.
  python3 -m http.server 8000      then open http://localhost:8000/
(Browsers do not load WebAssembly from file:// pages.) Drop, paste or choose images; on
localhost or https the page also offers the webcam.

model.onnx     the model: input "image" float32 [N, C, H, W] in [0, 255]; outputs "logits", "probabilities"
metadata.json  its ONNX metadata_props: classes and preprocessing (resize, crop, channels)
labels.txt     the class names, one per line
ort*           onnxruntime-web (MIT License, Microsoft), from its npm package
`;

/**
 * Every file of the page for one exported model.
 *
 * @example
 * const files = webBundle(exportOnnx(model, options), exportMetadata(model, options));
 */
export function webBundle(onnxBytes: Uint8Array, metadata: Record<string, string>): WebFile[] {
  const page = pageDir();
  const ort = ortDir();
  const classes = JSON.parse(metadata.classes ?? '[]') as string[];
  return [
    ...PAGE_FILES.map((name) => ({ name, path: join(page, name) })),
    { name: 'model.onnx', data: onnxBytes },
    { name: 'metadata.json', data: `${JSON.stringify(metadata, null, 2)}\n` },
    { name: 'labels.txt', data: `${classes.join('\n')}\n` },
    { name: 'README.txt', data: README },
    ...ORT_FILES.map((name) => ({ name, path: join(ort, name) })),
  ];
}

/**
 * Writes the page's files into `dir`, which must be new or empty (or hold an earlier export).
 *
 * @example
 * writeWebFolder('digits-web', webBundle(onnxBytes, metadata));
 */
export function writeWebFolder(dir: string, files: WebFile[]): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new TlcvError('ARGUMENT', `--out ${dir} is a file: the web page needs a folder`);
    const names = new Set(files.map((f) => f.name));
    const foreign = readdirSync(dir).filter((n) => !names.has(n) && !n.startsWith('.'));
    if (foreign.length > 0) throw new TlcvError('ARGUMENT', `--out ${dir} already holds other files (${foreign.slice(0, 3).join(', ')}): choose an empty or new folder`);
  }
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    if ('path' in f) copyFileSync(f.path, join(dir, f.name));
    else writeFileAtomic(join(dir, f.name), f.data);
  }
}
