// The report's pieces without a browser: scales, escaping, PNG encoding, the atomic write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodePng, escapeHtml, lineChart, renderReport, writeReport, type ReportData } from '../src/report/index.js';
import { formatTick, linearScale } from '../src/report/svg.js';
import { TlcvError } from '../src/errors.js';
import { realisticReport } from './helpers/report-fixture.js';

const isCode = (code: string, re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === code && re.test(e.message);

test('escapeHtml neutralises every markup character', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  assert.equal(escapeHtml(42), '42');
});

test('scales cover the data with round ticks', () => {
  const cases: [number, number][] = [[0.12, 1.93], [0.3, 0.31], [1, 12], [0, 5e-5], [-3, 7], [5, 5]];
  for (const [lo, hi] of cases) {
    const s = linearScale(lo, hi, [0, 100]);
    assert.ok(s.domain[0] <= lo && s.domain[1] >= hi, `[${lo}, ${hi}] inside ${s.domain}`);
    assert.ok(s.ticks.length >= 2 && s.ticks.length <= 12, `${s.ticks.length} ticks for [${lo}, ${hi}]`);
    const labels = s.ticks.map((t) => s.format(t));
    assert.equal(new Set(labels).size, labels.length, `distinct labels ${labels}`);
    for (const l of labels) assert.ok(l.length <= 7, `short label ${l}`);
    assert.ok(Math.abs(s(s.domain[0])) < 1e-9 && Math.abs(s(s.domain[1]) - 100) < 1e-9);
  }
  assert.deepEqual(linearScale(1, 3, [0, 1], { count: 8, integer: true }).ticks, [1, 2, 3]);
  assert.deepEqual(linearScale(0.42, 0.97, [0, 1], { percent: true, clamp: [0, 1] }).ticks.map((t) => formatTick(t, 0.1, true)), ['40%', '50%', '60%', '70%', '80%', '90%', '100%']);
  assert.equal(formatTick(2.5e-5, 5e-6), '2.5e-5');
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
});

test('a line chart skips non-finite values and says when nothing is left', () => {
  const svg = lineChart({ name: 'loss', title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', points: [[1, 2], [2, NaN], [3, 1], [4, 0.5]] }] });
  const d = /class="series" d="([^"]+)"/.exec(svg)?.[1] ?? '';
  assert.equal((d.match(/M/g) ?? []).length, 2, 'the NaN breaks the line in two');
  assert.equal((d.match(/L/g) ?? []).length, 1);
  assert.ok(!/NaN|Infinity/.test(svg), 'no NaN coordinates in the markup');
  const empty = lineChart({ name: 'loss', title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', points: [[1, NaN]] }] });
  assert.match(empty, /no finite values to plot/);
});

test('a rendered report has no script and no network address', async () => {
  const html = renderReport(await realisticReport());
  assert.ok(!/<script/i.test(html));
  assert.ok(!/(src|href)="(?!data:)/i.test(html), 'every src/href is a data: URI');
  assert.ok(!/https?:\/\//.test(html), 'no http(s) address anywhere');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  for (const name of ['loss', 'accuracy', 'lr', 'confusion', 'per-class', 'worst', 'learning-curve']) assert.match(html, new RegExp(`data-chart="${name}"`));
});

test('worst images accept bytes, base64 and data URIs, and reject anything else', () => {
  const base: ReportData = { title: 't', runInfo: {}, epochs: [] };
  const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
  const b64 = Buffer.from(bytes).toString('base64');
  for (const png of [bytes, b64, `data:image/png;base64,${b64}`]) {
    const html = renderReport({ ...base, worstImages: [{ png, label: 'a', predicted: 'b', confidence: 0.9 }] });
    assert.ok(html.includes(`src="data:image/png;base64,${b64}"`));
  }
  assert.throws(() => renderReport({ ...base, worstImages: [{ png: '" onerror="alert(1)', label: 'a', predicted: 'b', confidence: 0.9 }] }), isCode('ARGUMENT', /worstImages\[0\]\.png/));
});

test('encodePng writes channel-first pixels as a PNG of the scaled size', async () => {
  // A 2x3 RGB image, channel-first: red plane, green plane, blue plane.
  const h = 2;
  const w = 3;
  const pixels = new Uint8Array(3 * h * w);
  for (let i = 0; i < h * w; i += 1) {
    pixels[i] = 10 * i;
    pixels[h * w + i] = 100 + i;
    pixels[2 * h * w + i] = 255 - i;
  }
  const png = await encodePng(pixels, 3, h, w, 2);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [6, 4, 3]);
  for (let y = 0; y < 4; y += 1) {
    for (let x = 0; x < 6; x += 1) {
      const src = Math.floor(y / 2) * w + Math.floor(x / 2);
      const at = (y * 6 + x) * 3;
      assert.deepEqual([data[at], data[at + 1], data[at + 2]], [pixels[src], pixels[h * w + src], pixels[2 * h * w + src]], `pixel ${x},${y}`);
    }
  }
  const grey = await sharp(await encodePng(new Uint8Array(28 * 28).fill(7), 1, 28, 28)).metadata();
  assert.deepEqual([grey.width, grey.height], [28, 28]);
  await assert.rejects(encodePng(new Uint8Array(10), 1, 28, 28), isCode('ARGUMENT', /^Expected 784 bytes \(1 x 28 x 28\) for pixels but received 10$/));
  await assert.rejects(encodePng(new Uint8Array(4), 2, 1, 2), isCode('ARGUMENT', /1, 3 or 4 for channels but received 2/));
});

test('writeReport replaces the file atomically and names the path on failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-report-write-'));
  try {
    const path = join(dir, 'report.html');
    writeReport(path, { title: 'first', runInfo: {}, epochs: [] });
    writeReport(path, { title: 'second', runInfo: {}, epochs: [] });
    assert.match(readFileSync(path, 'utf8'), /<title>second<\/title>/);
    assert.deepEqual(readdirSync(dir), ['report.html'], 'no temp file left behind');
    const missing = join(dir, 'no-such-dir', 'report.html');
    assert.throws(() => writeReport(missing, { title: 'x', runInfo: {}, epochs: [] }), isCode('FILE', /no-such-dir\/report\.html/));
    assert.ok(!existsSync(join(dir, 'no-such-dir')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
