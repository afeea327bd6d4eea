/**
 * By-hand benchmark of `tlcv doctor` (issue 23) until the bench's new structure takes it:
 * (1) time and peak RSS of the CLI on planted digit folders of about 1,000 and 10,000 images,
 * with and without the label-error pass, and the precision/recall of what it finds there;
 * (2) near-duplicate precision/recall of the two offline descriptors (32x32 gray cosine,
 * pHash) at several thresholds, on planted digits and on photos with resized and re-encoded
 * copies.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/probes/doctor-bench.js [--sizes 1000,10000] [--threads N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { cosinePairs, hashPairs, scanFolder, tinyVector, TINY_DIM, type DoctorReport, type NearPair } from '../../src/doctor/index.js';
import { plantedDigits, type PlantOptions, type PlantedTruth } from '../../test/helpers/doctor-folder.js';
import { writePhoto } from '../../test/helpers/photos.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const sizes = arg('sizes', '1000,10000').split(',').map(Number);
const threads = arg('threads', '2');
const root = mkdtempSync(join(tmpdir(), 'tlcv-doctor-bench-'));
const key = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Planted counts for a folder of about n images (10 classes; at most 860 digits a class). */
function plan(n: number): PlantOptions {
  const per = Math.floor((n * 0.86) / 10);
  const train = Math.round(per * 0.884);
  const c = Math.round(n * 0.0045);
  return { trainPerClass: train, testPerClass: per - train, exact: Math.round(n * 0.028), resized: c * 10, reencoded: c * 10, leakExact: c * 2, leakNear: c * 2, corrupt: Math.max(2, Math.round(n * 0.002)), swapFraction: 0.05, seed: 1 };
}

function score(found: string[], truth: Set<string>): { precision: number; recall: number } {
  const hits = found.filter((k) => truth.has(k)).length;
  return { precision: found.length === 0 ? 1 : hits / found.length, recall: truth.size === 0 ? 1 : hits / truth.size };
}

const f3 = (x: number): string => x.toFixed(3);

function runDoctor(dir: string, extra: string[]): { seconds: number; rssMb: number; report: DoctorReport } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, resolve('bin', 'tlcv.js'), 'doctor', '--data', `folder:${dir}`, '--json', '--threads', threads, '--out', join(root, 'r.html'), ...extra], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`doctor failed: ${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
  return { seconds, rssMb: kb / 1024, report: JSON.parse(r.stdout) as DoctorReport };
}

async function scale(n: number): Promise<void> {
  const dir = join(root, `digits-${n}`);
  const planted = plan(n);
  const truth: PlantedTruth = await plantedDigits(dir, planted);
  // Exact copies across splits are leaks but not near pairs (the near search sees one file of each content).
  const nearTruth = new Set([...truth.nearPairs, ...truth.leakPairs.slice(planted.leakExact)].map(([a, b]) => key(a, b)));
  for (const labels of [true, false]) {
    const { seconds, rssMb, report } = runDoctor(dir, labels ? [] : ['--label-errors', 'false']);
    const near = score(report.nearDuplicates.map((p) => key(p.files[0].path, p.files[1].path)), nearTruth);
    const leak = truth.leakPairs.filter(([a, b]) => report.leakage.some((l) => l.files.some((f) => f.path === a) && l.files.some((f) => f.path === b))).length;
    let line = `${String(truth.images).padStart(6)} images, label pass ${labels ? 'on ' : 'off'}: ${seconds.toFixed(1)} s, peak RSS ${rssMb.toFixed(0)} MB; corrupt ${report.corrupt.length}/${truth.corrupt.length}, leaks ${leak}/${truth.leakPairs.length}, near P ${f3(near.precision)} R ${f3(near.recall)}`;
    if (labels) {
      const lab = score(report.labelIssues.map((x) => x.path), new Set(truth.swapped));
      line += `, label errors P ${f3(lab.precision)} R ${f3(lab.recall)} (${report.labelIssues.length} flagged, ${truth.swapped.length} swapped)`;
    }
    console.log(line);
  }
}

/** A folder of photos with 20 resized and 20 re-encoded copies; returns the planted pairs. */
async function photoFolder(dir: string, n: number): Promise<[string, string][]> {
  const pairs: [string, string][] = [];
  for (let i = 0; i < n; i += 1) await writePhoto(join(dir, `c${i % 4}`, `${i}.jpg`), { width: 160, height: 120, seed: 1000 + i });
  for (let i = 0; i < 40; i += 1) {
    const src = join(dir, `c${i % 4}`, `${i}.jpg`);
    const name = join(`c${i % 4}`, `copy${i}.${i < 20 ? 'png' : 'jpg'}`);
    const img = sharp(src);
    writeFileSync(join(dir, name), await (i < 20 ? img.resize(i % 2 ? 80 : 320).png() : img.jpeg({ quality: 50 })).toBuffer());
    pairs.push([join(`c${i % 4}`, `${i}.jpg`), name]);
  }
  return pairs;
}

async function descriptorGrid(what: string, dir: string, planted: [string, string][]): Promise<void> {
  const scan = await scanFolder(`folder:${dir}`);
  const rel = scan.images.map((im) => relative(dir, im.path));
  const truth = new Set(planted.map(([a, b]) => key(a, b)));
  const rows = new Float32Array(scan.images.length * TINY_DIM);
  scan.images.forEach((im, i) => tinyVector(im.descriptors, rows, i * TINY_DIM));
  const show = (name: string, pairs: NearPair[]): void => {
    const s = score(pairs.map((p) => key(rel[p.a]!, rel[p.b]!)), truth);
    console.log(`${what} (${scan.images.length} images, ${truth.size} planted pairs), ${name}: P ${f3(s.precision)} R ${f3(s.recall)} (${pairs.length} pairs)`);
  };
  for (const t of [0.95, 0.97, 0.98]) show(`tiny cosine >= ${t}`, cosinePairs(rows, scan.images.length, TINY_DIM, t));
  for (const b of [2, 4, 6]) show(`pHash <= ${b} bits`, hashPairs(scan.images.map((im) => im.descriptors.phash), b));
}

try {
  const digits = join(root, 'near-digits');
  const t = await plantedDigits(digits, { trainPerClass: 150, testPerClass: 40, resized: 40, reencoded: 40, leakNear: 40, seed: 2 });
  await descriptorGrid('digits', digits, [...t.nearPairs, ...t.leakPairs]);
  const photos = join(root, 'near-photos');
  await descriptorGrid('photos', photos, await photoFolder(photos, 400));
  for (const n of sizes) await scale(n);
} finally {
  rmSync(root, { recursive: true, force: true });
}
