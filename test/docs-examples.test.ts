/**
 * Every code example in README.md and docs/*.md stays true: JavaScript blocks run (one working
 * folder per document, in order, with small photo fixtures), `tlcv` command lines are checked
 * against the CLI's own --help without running them, Python blocks parse, JSON blocks parse, and
 * a block of any other language fails. See docs/development.md, "The examples in the docs are
 * tested", for the conventions (`<!-- expect: -->`, `<!-- file: -->`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { checkCommand, inlineCommands, readBlocks, readCliHelp, readLinks, shellLines, tlcvArgs, type CommandHelp, type DocBlock, type InlineCommand } from './helpers/doc-blocks.js';
import { writePhoto } from './helpers/photos.js';

const repo = resolve('.');
const docs = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f))];
const root = mkdtempSync(join(tmpdir(), 'tlcv-docs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const parsed = docs.map((file) => ({ file, ...readBlocks(file, readFileSync(file, 'utf8')) }));
const blocks: DocBlock[] = parsed.flatMap((p) => p.blocks);
const inline: InlineCommand[] = parsed.flatMap((p) => p.inline);
let cli: Map<string, CommandHelp>;

before(async () => {
  cli = readCliHelp(join(repo, 'bin', 'tlcv.js'));
  // Examples import 'tlcv' (this checkout) and the packages it depends on, as an installed user would.
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(repo, join(root, 'node_modules', 'tlcv'), 'dir');
  const imported = new Set(blocks.filter((b) => b.lang === 'js' || b.lang === 'ts').flatMap((b) => [...b.code.matchAll(/from '([^.'/][^']*)'/g)].map((m) => m[1]!)));
  for (const pkg of imported) if (pkg !== 'tlcv' && !pkg.startsWith('node:')) symlinkSync(join(repo, 'node_modules', pkg), join(root, 'node_modules', pkg), 'dir');
  // The fixtures docs/development.md promises: photos/{train,test}/{cat,dog}/*.jpg and photo.jpg.
  const fixtures = join(root, 'fixtures');
  for (const [split, n] of [['train', 8], ['test', 4]] as const) {
    for (const [c, cls] of ['cat', 'dog'].entries()) {
      for (let i = 0; i < n; i += 1) await writePhoto(join(fixtures, 'photos', split, cls, `${i}.jpg`), { width: 160, height: 120, seed: 100 * c + i + (split === 'test' ? 50 : 0), marker: c === 0 ? 30 : 0 });
    }
  }
  await writePhoto(join(fixtures, 'photo.jpg'), { width: 160, height: 120, seed: 999, marker: 30 });
});

test('every block has a language the test knows what to do with', () => {
  const known = new Set(['js', 'ts', 'sh', 'python', 'json', 'text']);
  const unknown = blocks.filter((b) => !known.has(b.lang)).map((b) => `${b.file}:${b.line}: \`\`\`${b.lang || '(no language)'}`);
  assert.deepEqual(unknown, [], 'label each block js, ts, sh, python, json or text');
  const runnable = blocks.filter((b) => b.lang === 'js' || b.lang === 'ts');
  const stray = blocks.filter((b) => (b.expect !== undefined || b.writeTo !== undefined) && !runnable.includes(b));
  assert.deepEqual(stray.map((b) => `${b.file}:${b.line}`), [], 'expect: and file: apply to js and ts blocks');
  assert.ok(runnable.length >= 10 && blocks.some((b) => b.lang === 'sh'), `the docs have their examples (${runnable.length} runnable blocks)`);
});

test('the command-line checker catches what it is there to catch', () => {
  const bad = (line: string, complete = true): string[] => checkCommand(tlcvArgs(line.split(' '))!, cli, complete);
  assert.deepEqual(bad('tlcv transfer --model runs/a --data mnist:all@k=10 --mode ncm --out runs/b'), []);
  assert.match(bad('tlcv frobnicate --x 1').join(), /unknown command "frobnicate"/);
  assert.match(bad('tlcv transfer --from runs/a --data x --out y').join(), /--from is an old spelling/);
  assert.match(bad('tlcv transfer --model a --data x --out y --mode finetune').join(), /--mode takes one of feature-extraction\|fine-tune/);
  assert.match(bad('tlcv transfer --model a --data x --out y --colour red').join(), /has no flag --colour/);
  assert.match(bad('tlcv evaluate --data mnist:test').join(), /tlcv evaluate needs --model/);
  assert.deepEqual(bad('tlcv evaluate --data mnist:test', false), [], 'inline prose may leave out required flags');
  assert.match(bad('tlcv evaluate --model a --data b extra').join(), /takes no files/);
  assert.deepEqual(bad('tlcv predict --model a photo.jpg --json'), []);
  assert.match(bad('tlcv export --model a --out b --format').join(), /--format needs a value/);
  assert.deepEqual(inlineCommands('tlcv adapt --method adabn\\|dann --model m').map((w) => checkCommand(w.slice(1), cli, false)), [[]]);
  assert.match(checkCommand(inlineCommands('tlcv adapt --method adabn|dan')[0]!.slice(1), cli, false).join(), /not "dan"/);
});

test('every tlcv command line in the docs has a command, flags, values and files the CLI accepts', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const b of blocks.filter((x) => x.lang === 'sh')) {
    for (const { line, words } of shellLines(b)) {
      const args = tlcvArgs(words);
      if (args === null) continue;
      checked += 1;
      for (const p of checkCommand(args, cli, true)) problems.push(`${b.file}:${line}: ${p}`);
    }
  }
  for (const c of inline) {
    for (const words of inlineCommands(c.text)) {
      const args = tlcvArgs(words);
      if (args === null) continue;
      checked += 1;
      for (const p of checkCommand(args, cli, false)) problems.push(`${c.file}:${c.line}: ${p} (in \`${c.text}\`)`);
    }
  }
  assert.deepEqual(problems, []);
  console.log(`checked ${checked} tlcv command lines`);
});

test('every relative link points at a file, and at a heading of it that exists', () => {
  const broken: string[] = [];
  for (const file of docs) {
    for (const { line, target } of readLinks(readFileSync(file, 'utf8')).links) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const to = path === '' ? file : join(dirname(file), path);
      if (!existsSync(to)) broken.push(`${file}:${line}: ${target} (no ${to})`);
      else if (anchor !== undefined && to.endsWith('.md') && !readLinks(readFileSync(to, 'utf8')).anchors.has(anchor)) broken.push(`${file}:${line}: ${target} (no heading #${anchor} in ${to})`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every Python block parses and every JSON block is JSON', () => {
  for (const b of blocks.filter((x) => x.lang === 'json')) assert.doesNotThrow(() => JSON.parse(b.code), `${b.file}:${b.line}`);
  for (const b of blocks.filter((x) => x.lang === 'python')) {
    const r = spawnSync(process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: b.code, encoding: 'utf8' });
    assert.equal(r.status, 0, `${b.file}:${b.line}: ${r.stderr}`);
  }
});

/** The block as an ES module: JavaScript as written, TypeScript with its types stripped. */
function moduleSource(b: DocBlock): string {
  if (b.lang === 'js') return b.code;
  return ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

for (const doc of docs) {
  const runnable = blocks.filter((b) => b.file === doc && (b.lang === 'js' || b.lang === 'ts'));
  if (runnable.length === 0) continue;
  test(`the examples of ${doc} run`, () => {
    const dir = join(root, doc.replace(/[/.]/g, '-'));
    cpSync(join(root, 'fixtures'), dir, { recursive: true });
    runnable.forEach((b, k) => {
      const where = `${doc}:${b.line}`;
      if (b.writeTo !== undefined) {
        // Written for a later block to run: one must name it.
        assert.ok(runnable.slice(k + 1).some((later) => later.writeTo === undefined && later.code.includes(b.writeTo!)), `${where}: no later block runs ${b.writeTo}`);
        writeFileSync(join(dir, b.writeTo), moduleSource(b));
        return;
      }
      const file = `example-${b.line}.mjs`;
      writeFileSync(join(dir, file), moduleSource(b));
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      console.log(`${where}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      assert.equal(r.status, 0, `${where} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stdout}\n${r.stderr}`);
      if (b.expect) assert.match(r.stdout, b.expect, `${where}: its output does not match ${b.expect}`);
    });
  });
}
