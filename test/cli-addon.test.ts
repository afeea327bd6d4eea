// The addon loads on first use: `tlcv --help`, a command's --help and `tlcv models` work where the
// addon cannot load, and a command that computes says why it cannot and how to fix it, in one
// line and without a stack trace: an unbuilt addon, or a libtorch the addon cannot find.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { STACK_LINE } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-addon-'));
const pkg = join(root, 'pkg');
after(() => rmSync(root, { recursive: true, force: true }));

before(() => {
  // The package as installed, but without build/: its addon is not there.
  cpSync(resolve('dist', 'src'), join(pkg, 'dist', 'src'), { recursive: true });
  cpSync(resolve('bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(resolve('package.json'), join(pkg, 'package.json'));
  symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'));
});

function tlcv(args: string[]): { code: number; stdout: string; stderr: string } {
  // A cache of its own: costs counted by an earlier run with the addon must not stand in.
  const env = { ...process.env, TLCV_CACHE: join(root, 'cache') };
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'tlcv.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 120_000, env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function worksWithoutAddon(): void {
  const help = tlcv(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: tlcv <command>/);
  const pretrainHelp = tlcv(['pretrain', '--help']);
  assert.equal(pretrainHelp.code, 0, pretrainHelp.stderr);
  assert.match(pretrainHelp.stdout, /--checkpoint-every S/);
  const models = tlcv(['models']);
  assert.equal(models.code, 0, models.stderr);
  // The zoo's own facts; parameters and GFLOPs need a forward, so they wait for the addon.
  assert.match(models.stdout, /^resnet18 +- +- +3x224x224 +resize 256 bilinear, centre crop 224x224/m);
  assert.match(models.stdout, /^seed-cnn +- +- +1x28x28 /m);
  assert.match(models.stderr, /parameters and GFLOPs not counted: /);
}

function failsWith(message: RegExp): void {
  const r = tlcv(['pretrain', '--data', 'mnist:train@k=2', '--epochs', '1', '--out', join(root, 'never')]);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, message);
}

test('without a built addon: help and the model list work; training says to build it', () => {
  worksWithoutAddon();
  failsWith(/^tlcv pretrain: tlcv native addon not built: run `npm ci` \(or `npm run build:native`\) after installing libtorch \(apt-get install libtorch-dev, or set LIBTORCH=\/path\/to\/libtorch\)\n$/);
});

test('with an addon whose libtorch is missing: help and the model list work; training names the library and the fixes', () => {
  // The real addon, with the name of the libtorch library it needs changed to one that does not exist.
  const bytes = readFileSync(resolve('build', 'Release', 'tlcv_native.node'));
  const text = bytes.toString('latin1');
  const m = /\0(libtorch[a-z_]*\.so[^\0]*)\0/.exec(text);
  assert.ok(m, 'the addon names the libtorch library it links');
  const missing = `${m[1]!.slice(0, -1)}X`;
  bytes.write(missing, m.index + 1, 'latin1');
  mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
  writeFileSync(join(pkg, 'build', 'Release', 'tlcv_native.node'), bytes);
  worksWithoutAddon();
  failsWith(new RegExp(`^tlcv pretrain: could not load .*tlcv_native\\.node: ${missing.replace(/\./g, '\\.')}: cannot open shared object file: No such file or directory\\nPossible fixes: install libtorch \\(apt-get install libtorch-dev\\), or set LIBTORCH`));
});
