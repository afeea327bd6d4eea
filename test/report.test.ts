// The report opened in a real browser (Debian's chromium through playwright-core): the
// charts must render without script, the images must decode, and nothing may touch the network.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeReport, renderReport, type ReportData } from '../src/report/index.js';
import { FASHION, realisticReport } from './helpers/report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const LINE_CHARTS = ['loss', 'accuracy', 'lr', 'learning-curve'];
const ALL_CHARTS = [...LINE_CHARTS, 'confusion', 'per-class'];
let browser: Browser;
let dir: string;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the report test needs Debian's chromium (apt-get install chromium; scripts/setup.sh installs it)`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  dir = mkdtempSync(join(tmpdir(), 'tlcv-report-'));
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
  close(): Promise<void>;
}

/** Writes the report, opens it, and records console errors, page errors and every request. */
async function open(name: string, data: ReportData): Promise<Opened> {
  const file = join(dir, `${name}.html`);
  writeReport(file, data);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems, requests, close: () => context.close() };
}

type Geometry = Awaited<ReturnType<typeof chartGeometry>>[number];

/** Per chart: points per series path, legend entries, and the on-screen box of every label. */
function chartGeometry(page: Page) {
  return page.$$eval('svg[data-chart]', (svgs) =>
    svgs.map((svg) => {
      const frame = svg.getBoundingClientRect();
      return {
        name: svg.getAttribute('data-chart'),
        series: Array.from(svg.querySelectorAll('path.series')).map((p) => (p.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length),
        legend: Array.from(svg.querySelectorAll('.legend text')).map((t) => t.textContent),
        boxes: Array.from(svg.querySelectorAll('text')).map((t) => {
          const b = t.getBoundingClientRect();
          const tick = t.parentElement?.classList.contains('axis') ?? false;
          return { text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height, tick, turned: t.classList.contains('turned') };
        }),
        frame: { x: frame.x, y: frame.y, w: frame.width, h: frame.height },
      };
    }),
  );
}

/** No label is cut off by its chart's edge, and no two axis labels overlap. */
function assertReadableLayout(charts: Geometry[]): void {
  for (const chart of charts) {
    for (const t of chart.boxes) {
      const inside = t.x >= chart.frame.x - 1 && t.y >= chart.frame.y - 1 && t.x + t.w <= chart.frame.x + chart.frame.w + 1 && t.y + t.h <= chart.frame.y + chart.frame.h + 1;
      assert.ok(inside, `${chart.name}: label "${t.text}" is cut off by the chart's edge`);
    }
    // Column labels of the confusion matrix are turned 45 degrees, so their upright boxes overlap by design.
    const ticks = chart.boxes.filter((b) => b.tick && !b.turned && b.w > 0);
    for (let i = 0; i < ticks.length; i += 1) {
      for (let j = i + 1; j < ticks.length; j += 1) {
        const a = ticks[i];
        const b = ticks[j];
        const overlap = a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
        assert.ok(!overlap, `${chart.name}: labels "${a.text}" and "${b.text}" overlap`);
      }
    }
  }
}

function assertOffline(opened: Opened): void {
  const outside = opened.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
  assert.deepEqual(outside, [], 'the report must not touch the network');
  assert.deepEqual(opened.problems, [], 'the console must stay clean');
}

test('every chart of a realistic report renders, with axes, legends and decoded images', async () => {
  const data = await realisticReport();
  const opened = await open('realistic', data);
  const { page } = opened;
  try {
    for (const name of ALL_CHARTS) {
      const info = await page.$eval(`svg[data-chart="${name}"]`, (svg) => {
        const box = svg.getBoundingClientRect();
        return {
          width: box.width,
          height: box.height,
          drawn: svg.querySelectorAll('path, rect, circle').length,
          texts: Array.from(svg.querySelectorAll('.axis text')).map((t) => t.textContent ?? ''),
          legend: svg.querySelectorAll('.legend text, .color-key rect').length,
        };
      });
      assert.ok(info.width > 100 && info.height > 100, `${name}: ${info.width}x${info.height}`);
      assert.ok(info.drawn > 0, `${name} draws nothing`);
      assert.ok(info.texts.length >= 4, `${name} has ${info.texts.length} axis labels`);
      assert.ok(info.legend > 0, `${name} has no legend`);
    }

    // Line charts: one point per epoch (or per step for the LR trace), and tick labels that do not collide.
    const byName = new Map((await chartGeometry(page)).map((c) => [c.name, c]));
    assert.deepEqual(byName.get('loss')?.series, [12, 12]);
    assert.deepEqual(byName.get('loss')?.legend, ['train', 'validation']);
    assert.deepEqual(byName.get('lr')?.series, [data.lrTrace?.length]);
    assert.deepEqual(byName.get('learning-curve')?.series, [6, 6, 6]);
    assert.deepEqual(byName.get('learning-curve')?.legend, ['scratch', 'feature extraction', 'fine-tune']);
    assertReadableLayout([...byName.values()]);

    // Confusion: one cell per pair of classes, counts written where non-zero, summing to n.
    const confusion = await page.$eval('svg[data-chart="confusion"]', (svg) => ({
      cells: svg.querySelectorAll('rect.cell').length,
      counts: Array.from(svg.querySelectorAll('text.count')).map((t) => Number(t.textContent)),
    }));
    const ev = data.evaluation;
    assert.ok(ev);
    assert.equal(confusion.cells, FASHION.length ** 2);
    assert.equal(confusion.counts.length, ev.confusion.flat().filter((v) => v > 0).length);
    assert.equal(confusion.counts.reduce((a, b) => a + b, 0), ev.n);
    assert.equal(await page.$$eval('svg[data-chart="per-class"] rect.bar', (r) => r.length), 3 * FASHION.length);

    // The grid of mistakes: every image decodes at the encoded size (28 x 3).
    const images = await page.$$eval('[data-chart="worst"] img', (imgs) =>
      imgs.map((img) => ({ complete: (img as HTMLImageElement).complete, width: (img as HTMLImageElement).naturalWidth, alt: img.getAttribute('alt') })),
    );
    assert.equal(images.length, data.worstImages?.length);
    assert.ok(images.length > 0);
    for (const img of images) {
      assert.ok(img.complete && img.width === 84, `image did not decode: ${JSON.stringify(img)}`);
      assert.match(img.alt ?? '', /^true .+, predicted .+ with \d+\.\d+% confidence$/);
    }
    const box = await page.$eval('[data-chart="worst"]', (el) => el.getBoundingClientRect().height);
    assert.ok(box > 0);

    // The comparison table shows the numbers given, and the class name with '&' reads as written.
    assert.match((await page.textContent('table.comparison')) ?? '', /fine-tune.*0\.9712/s);
    assert.match((await page.textContent('svg[data-chart="confusion"]')) ?? '', /Shirt & blouse/);
    await page.screenshot({ path: '/tmp/tlcv-report.png', fullPage: true });
    assertOffline(opened);
  } finally {
    await opened.close();
  }
});

test('user strings are shown as text, never run', async () => {
  const data = await realisticReport();
  const evil = '<script>window.__pwned = 1</script>';
  const names = FASHION.map((n, i) => (i === 3 ? evil : n));
  assert.ok(data.evaluation && data.worstImages);
  data.evaluation.classNames = names;
  data.evaluation.perClass = data.evaluation.perClass.map((c, i) => ({ ...c, class: names[i] }));
  data.worstImages[0].label = evil;
  data.title = 'run "<img src=x onerror=window.__pwned=2>"';
  data.runInfo = { ...data.runInfo, 'data"><b>': '\'"<i>&amp;' };
  data.comparison = { title: '<u>t</u>', columns: ['<th>'], rows: [['</table><script>window.__pwned=3</script>']] };
  const html = renderReport(data);
  assert.ok(!html.includes('<script'), 'raw <script> in the HTML');
  assert.ok(!html.includes('<img src=x'), 'raw <img> from the title');
  const opened = await open('escaping', data);
  try {
    const { page } = opened;
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.$$eval('script, u, b, i', (els) => els.length), 0);
    assert.equal(await page.title(), data.title);
    assert.ok(((await page.textContent('svg[data-chart="per-class"]')) ?? '').includes('<script>window.__pwn'));
    assert.ok(((await page.textContent('[data-chart="worst"]')) ?? '').includes(evil));
    assert.ok(((await page.textContent('dl.run-info')) ?? '').includes('\'"<i>&amp;'));
    assertOffline(opened);
  } finally {
    await opened.close();
  }
});

test('without validation data or evaluation the report says so and still renders', async () => {
  const data = await realisticReport({ withValidation: false });
  delete data.evaluation;
  delete data.worstImages;
  delete data.comparison;
  delete data.learningCurve;
  delete data.lrTrace;
  const opened = await open('no-validation', data);
  try {
    const { page } = opened;
    for (const name of ['loss', 'accuracy']) {
      const chart = await page.$eval(`svg[data-chart="${name}"]`, (svg) => ({
        series: svg.querySelectorAll('path.series').length,
        text: svg.textContent ?? '',
        height: svg.getBoundingClientRect().height,
      }));
      assert.equal(chart.series, 1, `${name}: train only`);
      assert.match(chart.text, /no validation data/);
      assert.ok(chart.height > 0);
    }
    // Per-epoch learning rates stand in for the missing per-step trace.
    assert.equal(await page.$$eval('svg[data-chart="lr"] circle', (c) => c.length), 12);
    for (const name of ['confusion', 'per-class', 'worst', 'learning-curve']) {
      assert.equal(await page.$$eval(`[data-chart="${name}"]`, (els) => els.length), 0, `${name} should be left out`);
    }
    assertOffline(opened);
  } finally {
    await opened.close();
  }

  const bare = await open('bare', { title: 'nothing yet', runInfo: {}, epochs: [] });
  try {
    assert.match((await bare.page.textContent('#training')) ?? '', /No training epochs/);
    assert.equal(await bare.page.$$eval('svg', (s) => s.length), 0);
    assertOffline(bare);
  } finally {
    await bare.close();
  }
});

test('many classes, long names, a diverged epoch and tiny learning rates stay readable', async () => {
  const k = 30;
  const names = Array.from({ length: k }, (_, i) => (i % 7 === 0 ? `an unusually long class name number ${i}` : `c${i}`));
  const confusion = Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => (t === p ? 40 + t : (t * 7 + p * 3) % 11 === 0 ? 1234 : 0)));
  const n = confusion.flat().reduce((a, b) => a + b, 0);
  const perClass = names.map((c, i) => ({ class: c, precision: i / k, recall: 1 - i / k, f1: 0.5, support: confusion[i].reduce((a, b) => a + b, 0) }));
  const avg = { precision: 0.5, recall: 0.5, f1: 0.5 };
  const data: ReportData = {
    title: 'stress',
    runInfo: { note: 'x'.repeat(300) },
    epochs: [1, 2, 3].map((e) => ({ epoch: e, trainLoss: e === 2 ? NaN : 1 / e, trainAcc: 0.5, valLoss: e === 3 ? Infinity : 2 / e, valAcc: 0.4, lr: 3e-5 / e })),
    evaluation: { accuracy: 0.5, top5: 0.9, n, perClass, macro: avg, weighted: avg, confusion, balancedAccuracy: 0.5, ece: 0.1, worst: [], classNames: names },
  };
  const opened = await open('stress', data);
  try {
    const geometry = await chartGeometry(opened.page);
    assertReadableLayout(geometry);
    const loss = geometry.find((g) => g.name === 'loss');
    // The NaN epoch breaks the train line into two runs of one point each; Infinity drops the last validation point.
    assert.deepEqual(loss?.series, [2, 2]);
    const lrTicks = geometry.find((g) => g.name === 'lr')?.boxes.filter((b) => b.tick).map((b) => b.text) ?? [];
    assert.ok(lrTicks.some((t) => /e-5$/.test(t ?? '')), `LR ticks should use exponents: ${lrTicks.join(' ')}`);
    assert.equal(await opened.page.$$eval('svg[data-chart="confusion"] rect.cell', (r) => r.length), k * k);
    await opened.page.screenshot({ path: '/tmp/tlcv-report-stress.png', fullPage: true });
    assertOffline(opened);
  } finally {
    await opened.close();
  }
});
