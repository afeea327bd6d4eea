/**
 * The offline web page of a model. index.html is one self-contained file: the page's scripts
 * (src/deploy/web), onnxruntime-web's single-file ES module and its wasm (gzip, 3.7 MB of the
 * 14 MB; handed to onnxruntime through `env.wasm.wasmBinary`), taken from its npm package, the
 * model's metadata, and the model itself up to EMBED_MODEL_MAX_BYTES. Browsers refuse a page
 * opened from disk (file://) every fetch and every module script from a file, so a page that
 * loads its parts works only when served; this one loads nothing and works from disk as well.
 * The scripts reach each other through an import map of data: URLs, so app.js keeps its imports.
 * A larger model is left out of the page and fetched from model.onnx beside it: that works
 * when the folder is served, and from disk the page says so in one line.
 *
 * Beside index.html: model.onnx, metadata.json (the ONNX file's metadata_props), labels.txt and
 * a README. `tlcv export --format web` writes these files; `tlcv serve` serves the same list.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { TlcvError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** One file of the page. */
export interface WebFile {
  name: string;
  data: Uint8Array | string;
}

/**
 * The largest model embedded in index.html, as base64 (4/3 of its size). Measured in Debian's
 * chromium opening the page from disk on a 2-core EPYC (shared, load average about 10), time
 * until the page is ready and its JS heap: MobileNetV2 (9 MB of ONNX, a 17 MB page) 3.8 s;
 * ResNet-18 (45 MB, a 65 MB page) 9 s and 133 MB; ResNet-50 (94 MB, a 130 MB page) 19 s and
 * 242 MB, where fetching its model.onnx from a server takes 3.6 s and 116 MB. 64 MiB keeps the
 * MobileNets and ResNet-18 working from disk, and sends ResNet-50 and larger to a server.
 */
export const EMBED_MODEL_MAX_BYTES = 64 * 1024 * 1024;

/** onnxruntime-web's wasm-only ES module with its loader inside (no further script to fetch), and its wasm. */
const ORT_MODULE = 'ort.wasm.bundle.min.mjs';
const ORT_WASM = 'ort-wasm-simd-threaded.wasm';
/** What earlier versions of the page wrote beside index.html: part of an earlier page, replaced by a new export. */
export const EARLIER_PAGE_FILES: ReadonlySet<string> = new Set(['app.js', 'preprocess.js', 'ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', ORT_WASM]);

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

function ortFile(name: string): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm')), name);
  } catch {
    throw new TlcvError('FILE', 'onnxruntime-web is not installed: run npm install in the tlcv folder (the web page takes its wasm from that package)');
  }
}

// The gzipped wasm as base64 is the same for every page: made once per process.
let wasmText: string | null = null;

/**
 * Makes the embedded wasm off the main thread (zlib's thread pool), so that a server building
 * its page does not stall its requests for the second the compression takes; webBundle then
 * finds it made.
 *
 * @example
 * await prepareWebBundle();
 */
export async function prepareWebBundle(): Promise<void> {
  wasmText ??= (await promisify(gzip)(readFileSync(ortFile(ORT_WASM)), { level: 6 })).toString('base64');
}

function embeddedWasm(): string {
  wasmText ??= gzipSync(readFileSync(ortFile(ORT_WASM)), { level: 6 }).toString('base64');
  return wasmText;
}

const dataUrl = (code: Buffer): string => `data:text/javascript;base64,${code.toString('base64')}`;
/** JSON that can sit inside a script element whatever its strings hold (class names included). */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

function indexHtml(onnxBytes: Uint8Array, metadata: Record<string, string>, embedModelMaxBytes: number): string {
  const page = pageDir();
  const app = readFileSync(join(page, 'app.js'), 'utf8');
  if (/<\/script|<!--/i.test(app)) throw new Error('src/deploy/web/app.js holds "</script" or "<!--", which would end its inline script early');
  const imports = { 'onnxruntime-web/wasm': dataUrl(readFileSync(ortFile(ORT_MODULE))), './preprocess.js': dataUrl(readFileSync(join(page, 'preprocess.js'))) };
  const embed = onnxBytes.length <= embedModelMaxBytes;
  const data = { metadata, modelBytes: onnxBytes.length, model: embed ? Buffer.from(onnxBytes).toString('base64') : null, wasm: embeddedWasm() };
  const parts: Record<string, string> = {
    '<!-- tlcv:importmap -->': `<script type="importmap">${scriptJson({ imports })}</script>`,
    '<!-- tlcv:data -->': `<script type="application/json" id="tlcv-data">${scriptJson(data)}</script>`,
    '<!-- tlcv:app -->': `<script type="module">\n${app}</script>`,
  };
  const template = readFileSync(join(page, 'index.html'), 'utf8');
  // A function replacement: the inserted text may hold "$&" and the like.
  return template.replace(/<!-- tlcv:(importmap|data|app) -->/g, (slot) => parts[slot]!);
}

const readme = (embedded: boolean): string => `A tlcv model as a web page that runs in the browser, offline.

${
  embedded
    ? 'Open index.html: from disk, or from any static file server. Everything it needs is inside it.'
    : `The model is too large to embed in index.html (over ${EMBED_MODEL_MAX_BYTES / 1024 / 1024} MiB), so the page fetches
model.onnx, which browsers allow only from a server: serve this folder and open it, e.g.
  python3 -m http.server 8000      then open http://localhost:8000/`
}
Drop, paste or choose images; on localhost or https the page also offers the webcam.

index.html     the page, with onnxruntime-web (MIT License, Microsoft) from its npm package inside it
model.onnx     the model: input "image" float32 [N, C, H, W] in [0, 255]; outputs "logits", "probabilities"
metadata.json  its ONNX metadata_props: classes and preprocessing (resize, crop, channels)
labels.txt     the class names, one per line
`;

/**
 * Every file of the page for one exported model. `embedModelMaxBytes` (default
 * EMBED_MODEL_MAX_BYTES): the largest model put inside index.html.
 *
 * @example
 * const files = webBundle(exportOnnx(model, options), exportMetadata(model, options));
 */
export function webBundle(onnxBytes: Uint8Array, metadata: Record<string, string>, o: { embedModelMaxBytes?: number } = {}): WebFile[] {
  const limit = o.embedModelMaxBytes ?? EMBED_MODEL_MAX_BYTES;
  const classes = JSON.parse(metadata.classes ?? '[]') as string[];
  return [
    { name: 'index.html', data: indexHtml(onnxBytes, metadata, limit) },
    { name: 'model.onnx', data: onnxBytes },
    { name: 'metadata.json', data: `${JSON.stringify(metadata, null, 2)}\n` },
    { name: 'labels.txt', data: `${classes.join('\n')}\n` },
    { name: 'README.txt', data: readme(onnxBytes.length <= limit) },
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
    const foreign = readdirSync(dir).filter((n) => !names.has(n) && !EARLIER_PAGE_FILES.has(n) && !n.startsWith('.'));
    if (foreign.length > 0) throw new TlcvError('ARGUMENT', `--out ${dir} already holds other files (${foreign.slice(0, 3).join(', ')}): choose an empty or new folder`);
    for (const n of readdirSync(dir)) if (EARLIER_PAGE_FILES.has(n)) rmSync(join(dir, n));
  }
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileAtomic(join(dir, f.name), f.data);
}
