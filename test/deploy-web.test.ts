// The exported web page: its preprocessing against tlcv's decoder, then the page itself in
// Debian's chromium (playwright-core) from a local static server: images chosen, dropped and
// pasted must get tlcv predict's top-1, and nothing may leave the machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { preprocessingMetadata, type PredictionReport } from '../src/deploy/index.js';
import { legacyPreprocess, preprocessImageFile, resolveDataConfig, type Interpolation, type PreprocessConfig } from '../src/data/index.js';
import { CONTENT_TYPES } from '../src/deploy/web-bundle.js';
import { writeModelFolder, writePhotos } from './helpers/deploy-fixture.js';
import { runCli } from './helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';

interface PagePreprocess {
  readMetadata(props: Record<string, string>): unknown;
  toModelInput(rgba: Uint8Array, width: number, height: number, meta: unknown): Float32Array;
}

let root: string;
let photos: string[];
let browser: Browser | undefined;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-web-'));
  photos = await writePhotos(join(root, 'photos'), 5);
});

after(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

const stats = (c: number): { mean: number[]; std: number[] } => ({ mean: new Array<number>(c).fill(0.5), std: new Array<number>(c).fill(0.25) });
/** A model folder's record: the whole-image resize of digit models, or a photo model's crop. */
const whole = (inputSize: [number, number, number]): PreprocessConfig => legacyPreprocess({ inputSize, ...stats(inputSize[0]) });
type ModelStats = { inputSize: [number, number, number]; mean: number[]; std: number[] };
const photo = (model: ModelStats, interpolation: Interpolation): PreprocessConfig => resolveDataConfig({ model, inputSize: [model.inputSize[1], model.inputSize[2]], interpolation });

// The page resamples as PIL and torchvision's antialias do. libvips, under tlcv's decoder, box-
// shrinks first by large factors (so a looser bound there), and resamples without antialiasing
// when one axis shrinks while the other grows: a stretch that aspect-keeping resizes never make,
// left out here. Each record reaches the page as the export writes it (metadata_props).
test("the page's resize, crop, gray conversion and transparency match tlcv's decoder for the recorded preprocessing", async () => {
  const page = (await import(pathToFileURL(resolve('src/deploy/web/preprocess.js')).href)) as PagePreprocess;
  const records: [string, PreprocessConfig][] = [];
  for (const size of [[1, 28, 28], [3, 96, 96], [3, 224, 160], [3, 32, 40]] as [number, number, number][]) records.push([`${size.join('x')} whole`, whole(size)]);
  for (const [size, interp] of [[[3, 224, 224], 'bilinear'], [[3, 96, 96], 'bicubic'], [[1, 80, 64], 'bilinear']] as [[number, number, number], Interpolation][]) {
    records.push([`${size.join('x')} crop_pct 0.875 ${interp}`, photo({ inputSize: size, ...stats(size[0]) }, interp)]);
  }
  let compared = 0;
  for (const [label, cfg] of records) {
    const meta = page.readMetadata(preprocessingMetadata(cfg, ['a', 'b']));
    for (const file of photos) {
      const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const [sy, sx] = [info.height / cfg.inputSize[1], info.width / cfg.inputSize[2]];
      if (cfg.resize === 'fill' && sy > 1 !== sx > 1) continue;
      compared += 1;
      const ours = page.toModelInput(new Uint8Array(data), info.width, info.height, meta);
      const tlcv = await preprocessImageFile(file, cfg);
      assert.equal(ours.length, tlcv.length);
      let sum = 0;
      let max = 0;
      for (let i = 0; i < ours.length; i += 1) {
        const d = Math.abs(ours[i]! - tlcv[i]!);
        sum += d;
        max = Math.max(max, d);
      }
      const what = `${basename(file)} (${info.width}x${info.height}) to ${label}`;
      assert.ok(sum / ours.length < (Math.max(sx, sy) > 8 ? 2.5 : 1), `${what}: mean difference ${sum / ours.length} grey levels`);
      assert.ok(max <= 12, `${what}: largest difference ${max} grey levels`);
    }
  }
  assert.ok(compared >= 30, `${compared} comparisons`);
});

/** A plain static file server for one folder, as a user would run one. */
async function serveFolder(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1)) || 'index.html';
    const file = join(dir, basename(name));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// The digit model keeps the whole-image resize; the photo models record a crop (crop_pct 0.875, aspect kept).
for (const [label, model, opts] of [
  ['seed-cnn 1x28x28', 'seed-cnn', {}],
  ['mobilenet_v2_035 3x96x96 crop_pct 0.875', 'mobilenet_v2_035', { inputSize: [96, 96] as [number, number], preprocess: (c: ModelStats) => photo(c, 'bilinear') }],
  // A model with attention: DINOv2 ViT-S/14 (its whole 88 MB of weights) at 28 px, DINOv2's bicubic resize.
  ['dinov2_vits14 3x28x28 crop_pct 0.875', 'dinov2_vits14', { inputSize: [28, 28] as [number, number], preprocess: (c: ModelStats) => photo(c, 'bicubic') }],
] as const) {
  test(`${label}: the exported page, offline in chromium, gets tlcv predict's top-1 for chosen, dropped and pasted images`, async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the web page test needs Debian's chromium (scripts/setup.sh installs it)`);
    const folder = join(root, label.replace(/ /g, '-'));
    await writeModelFolder(folder, model, photos, opts);
    const out = join(root, `${basename(folder)}-web`);
    const ex = runCli(['export', '--model', folder, '--format', 'web', '--out', out]);
    assert.equal(ex.code, 0, ex.stderr);
    const pr = runCli(['predict', '--model', folder, ...photos, '--json']);
    assert.equal(pr.code, 0, pr.stderr);
    const expected = new Map((JSON.parse(pr.stdout) as PredictionReport).predictions.map((p) => [basename(p.file), p.top[0]!.class]));

    browser ??= await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const { url, server } = await serveFolder(out);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`${url}/`);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });

      const chosen = photos.slice(0, 3);
      await page.setInputFiles('#files', chosen);
      await page.waitForFunction((n) => document.querySelectorAll('#history li').length >= n, chosen.length, { timeout: 60_000 });
      // Dropped and pasted: the same File objects a browser makes, through the page's handlers.
      const rest = photos.slice(3).map((f) => ({ name: basename(f), base64: readFileSync(f).toString('base64') }));
      await page.evaluate((files) => {
        const asFile = (f: { name: string; base64: string }): File => new File([Uint8Array.from(atob(f.base64), (ch) => ch.charCodeAt(0))], f.name, { type: 'image/png' });
        const drop = new DataTransfer();
        drop.items.add(asFile(files[0]!));
        document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
        const paste = new DataTransfer();
        paste.items.add(asFile(files[1]!));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true }));
      }, rest);
      await page.waitForFunction((n) => document.querySelectorAll('#history li').length >= n, photos.length, { timeout: 60_000 });

      const seen = await page.$$eval('#history li', (lis) => lis.map((li) => ({ file: li.dataset.file!, top1: li.dataset.top1, error: li.dataset.error })));
      assert.deepEqual(seen.map((s) => s.file), photos.map((f) => basename(f)), 'every image classified, in order');
      for (const s of seen) assert.equal(s.top1, expected.get(s.file), `${s.file}: the page's top-1 against tlcv predict's`);
      const bars = await page.$$eval('#bars li', (lis) => lis.map((li) => li.dataset.class));
      assert.equal(bars.length, 5, 'top-5 bars for the last image');
      assert.equal(bars[0], expected.get(basename(photos[photos.length - 1]!)));

      assert.deepEqual(requests.filter((r) => !r.startsWith(url) && !r.startsWith('blob:') && !r.startsWith('data:')), [], 'the page loads nothing from elsewhere');
      assert.deepEqual(problems, [], 'no console errors');
    } finally {
      await context.close();
      server.close();
    }
  });
}
