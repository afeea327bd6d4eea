// The package as a Node user meets it (issue 19): `npm pack`, what the tarball holds, and a fresh
// project that installs the tarball without the network (its install script builds the addon
// against libtorch), imports it from an ES module, trains and exports from the installed `tlcv`
// command, and type-checks a TypeScript file against its declarations.
//
// A script rather than a test file: the install compiles the addon, minutes on 2 cores, far over
// a test file's budget, and it needs doing once per CI run (.ci/run calls it after the tests),
// not on every `npm test`. By hand: `npm run check:package` (--keep leaves the project behind).
//
// Offline: npm's cache holds every dependency's tarball after setup (`npm ci`), but not the
// registry's package documents that resolving version ranges needs. The fresh project therefore
// gets a lockfile cut from this repository's: the same versions the repository is tested with,
// where a user's `npm install tlcv` would resolve the newest in range.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'tlcv-package-'));
const project = join(work, 'project');
const timings = [];
const failures = [];
// Removed however the check ends (a failed command throws), unless --keep.
process.on('exit', () => (keep ? console.log(`kept ${work}`) : rmSync(work, { recursive: true, force: true })));

function step(name, fn) {
  const t0 = performance.now();
  const out = fn();
  const seconds = (performance.now() - t0) / 1000;
  timings.push([name, seconds]);
  console.log(`${name}: ${seconds.toFixed(1)} s`);
  return out;
}

function check(ok, what) {
  if (!ok) failures.push(what);
}

/** Ends the check: its timings, then what failed (exit 1) or that all held. */
function finish() {
  const total = timings.reduce((sum, [, t]) => sum + t, 0);
  console.log(`package check: ${total.toFixed(0)} s in all (${timings.map(([n, t]) => `${n} ${t.toFixed(0)} s`).join(', ')})`);
  if (failures.length > 0) {
    console.error(`package check failed:\n- ${failures.join('\n- ')}`);
    process.exit(1);
  }
  console.log('package check: the tarball installs offline, builds, imports, trains and type-checks');
  process.exit(0);
}

/** Runs a command; a failure stops the check with its output. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...opts });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}:\n${out}`);
  }
  return r.stdout;
}

// --- 1. The tarball, as `npm pack` (and `npm publish`) makes it: `prepare` compiles dist/ first.
const pack = step('npm pack', () => JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo }))[0]);
const tarball = join(work, pack.filename);
const files = pack.files.map((f) => f.path);
console.log(`  ${pack.filename}: ${(pack.size / 2 ** 20).toFixed(2)} MiB, ${files.length} files, ${(pack.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked`);

// Every file is one a user needs: the compiled library and its declarations, the addon's sources and
// what builds them at install, the CLI, the PyTorch peers `tlcv bench` runs, the web page `tlcv
// export --format web` copies. No tests, fixtures, compiled tests or scripts, scratch or build output.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^bin\/tlcv\.js$/,
  /^binding\.gyp$/,
  /^scripts\/libtorch-paths\.cjs$/,
  /^native\/[\w/]+\.(cc|h)$/,
  /^dist\/src\/[\w/.-]+\.(js|d\.ts)$/,
  /^peers\/\w+\.py$/,
  /^src\/deploy\/web\/[\w.-]+\.(html|js)$/,
];
for (const f of files) check(ALLOWED.some((re) => re.test(f)), `the tarball holds ${f}, which no user needs (package.json "files")`);
const gyp = readFileSync(join(repo, 'binding.gyp'), 'utf8');
const required = [
  'bin/tlcv.js',
  'dist/src/index.js',
  'dist/src/index.d.ts',
  'dist/src/cli/main.js',
  'peers/bench.py',
  'src/deploy/web/index.html',
  ...[...gyp.matchAll(/"(native\/[\w/]+\.cc)"/g)].map((m) => m[1]),
];
for (const f of required) check(files.includes(f), `the tarball lacks ${f}`);
// tsc never deletes: a compiled file whose source is gone would ship as a stale module.
for (const f of files.filter((p) => p.startsWith('dist/src/') && p.endsWith('.js'))) {
  const source = f.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  check(existsSync(join(repo, source)), `${f} is stale: ${source} is gone (rm -rf dist, then npm run build)`);
}
// A wrong tarball fails here, before minutes of installing it.
if (failures.length > 0) finish();

// --- 2. A fresh project, and its lockfile cut from the repository's (see the top of this file).
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
const own = lock.packages[''];
const devTools = ['typescript', '@types/node'];
/** The lockfile entries a set of dependencies needs, found as Node finds them (nearest node_modules up). */
function closure(names) {
  const out = new Map();
  const visit = (from, name) => {
    for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
      const key = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      const entry = lock.packages[key];
      if (entry !== undefined) {
        if (out.has(key)) return;
        out.set(key, entry);
        for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(key, dep);
        return;
      }
      if (dir === '') return; // an optional dependency for another platform: not in the lockfile
    }
  };
  for (const name of names) visit('', name);
  return out;
}
const spec = `file:${pack.filename}`;
const devVersions = Object.fromEntries(devTools.map((n) => [n, own.devDependencies[n]]));
mkdirSync(project);
writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'tlcv-consumer', private: true, type: 'module', dependencies: { tlcv: spec }, devDependencies: devVersions }, null, 2)}\n`);
const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
const tlcvEntry = { version: own.version, resolved: spec, integrity, hasInstallScript: own.hasInstallScript, license: own.license, dependencies: own.dependencies, bin: own.bin, engines: own.engines };
const packages = {
  '': { name: 'tlcv-consumer', dependencies: { tlcv: spec }, devDependencies: devVersions },
  'node_modules/tlcv': tlcvEntry,
  ...Object.fromEntries(closure([...Object.keys(own.dependencies), ...devTools])),
};
writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify({ name: 'tlcv-consumer', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
// onnxruntime-node (tlcv's second inference engine) would fetch CUDA providers at install: a
// project installing tlcv says to skip that, as this repository's .npmrc does (docs/development.md).
writeFileSync(join(project, '.npmrc'), 'onnxruntime-node-install=skip\n');
// The tarball sits beside the project: `file:` specs are relative to it.
writeFileSync(join(project, pack.filename), readFileSync(tarball));

// --- 3. The install: npm's own node-gyp runs the package's install script and builds the addon.
step('npm ci --offline (builds the addon)', () => run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: project }));
const installed = join(project, 'node_modules', 'tlcv');
check(existsSync(join(installed, 'build', 'Release', 'tlcv_native.node')), 'the install script built no build/Release/tlcv_native.node');

// Its own caches: nothing read from, or left in, the user's.
const env = { ...process.env, TLCV_CACHE: join(work, 'cache'), TLCV_PLAN_CACHE: join(work, 'plans.json'), TLCV_THREADS: '1' };

// --- 4. An ES module imports it: the addon loads against libtorch, and tensors come and go.
writeFileSync(
  join(project, 'smoke.mjs'),
  `import { createModel, liveTensors, randn, runtimeInfo, tidy } from 'tlcv';
const before = liveTensors().count;
const model = createModel('seed-cnn', { numClasses: 10 });
const logits = tidy(() => model.eval().forward(randn([2, 1, 28, 28])));
console.log(JSON.stringify({ shape: logits.shape, finite: logits.toFlatArray().every(Number.isFinite), torch: runtimeInfo().torchVersion }));
logits.dispose();
model.dispose();
if (liveTensors().count !== before) throw new Error('tensors left behind');
`,
);
const smoke = step('import from an ES module', () => JSON.parse(run(process.execPath, ['smoke.mjs'], { cwd: project, env }).trim().split('\n').at(-1)));
check(JSON.stringify(smoke.shape) === '[2,10]' && smoke.finite, `the imported model's logits: ${JSON.stringify(smoke)}`);
console.log(`  libtorch ${smoke.torch}`);

// --- 5. The installed command: a tiny training, its evaluation, and the offline web page.
const tlcv = join(project, 'node_modules', '.bin', 'tlcv');
step('tlcv pretrain (installed bin)', () => run(tlcv, ['pretrain', '--data', 'mnist:train@k=3', '--epochs', '1', '--batch-size', '10', '--val', 'none', '--quiet', '--out', 'runs/digits'], { cwd: project, env }));
const evaluated = step('tlcv evaluate', () => JSON.parse(run(tlcv, ['evaluate', '--model', 'runs/digits', '--data', 'mnist:test@k=3', '--json'], { cwd: project, env })));
check(evaluated.n === 30 && evaluated.accuracy >= 0 && evaluated.accuracy <= 1, `tlcv evaluate: ${JSON.stringify(evaluated)}`);
step('tlcv export --format web', () => run(tlcv, ['export', '--model', 'runs/digits', '--format', 'web', '--out', 'runs/web'], { cwd: project, env }));
for (const f of ['index.html', 'model.onnx']) check(existsSync(join(project, 'runs', 'web', f)), `tlcv export --format web wrote no ${f}`);

// --- 6. TypeScript against the package's declarations, strict and with its libraries checked too.
writeFileSync(
  join(project, 'check.ts'),
  `import { Learner, createModel, loadDataset, type ClassifierModel, type TrainOptions } from 'tlcv';
const model: ClassifierModel = createModel('seed-cnn', { numClasses: 10 });
const options: Partial<TrainOptions> = { epochs: 1, batchSize: 32 };
export async function train(): Promise<number> {
  const learn = new Learner({ model, train: await loadDataset('mnist:train@k=3'), options });
  await learn.fit();
  return model.numParameters();
}
// @ts-expect-error: the declarations type numClasses as a number, so this must not compile
createModel('seed-cnn', { numClasses: 'ten' });
`,
);
writeFileSync(
  join(project, 'tsconfig.json'),
  `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['check.ts'] }, null, 2)}\n`,
);
step('tsc against the declarations', () => run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project }));

finish();
