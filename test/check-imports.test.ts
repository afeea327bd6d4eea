// The import check: this repository passes it, and on small trees it fails on an arrow the
// README's table does not allow, on folders that import each other, on files that import each
// other, on a folder missing from the table, and lets a `pending:` arrow through with a note.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'tlcv-imports-'));
after(() => rmSync(root, { recursive: true, force: true }));
const script = resolve('scripts', 'check-imports.js');

function check(dir?: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [script, ...(dir ? ['--root', dir] : [])], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

let n = 0;
/** A tree with a README table and source files (path → the relative imports it makes). */
function tree(table: string[], files: Record<string, string[]>): string {
  const dir = join(root, `t${(n += 1)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README.md'), `# x\n\n<!-- layers: -->\n\`\`\`text\n${table.join('\n')}\n\`\`\`\n`);
  for (const [file, imports] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), imports.map((i, k) => (k % 2 === 0 ? `import { a${k} } from '${i}';\n` : `import type { T${k} } from '${i}';\n`)).join(''));
  }
  return dir;
}

const layers = ['train → data, tensor', 'data → tensor', 'tensor → (nothing)'];

test('this repository passes: every arrow between src/ folders is allowed, no cycles', () => {
  const r = check();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /all allowed; no cycles/);
});

test('an allowed tree passes, and errors.ts may be used by any folder', () => {
  const r = check(tree(layers, { 'src/train/a.ts': ['../data/b.js', '../errors.js'], 'src/data/b.ts': ['../tensor/c.js'], 'src/tensor/c.ts': [], 'src/errors.ts': [] }));
  assert.equal(r.code, 0, r.out);
});

test('an arrow against the table fails, naming the import', () => {
  const r = check(tree(layers, { 'src/train/a.ts': [], 'src/tensor/c.ts': ['../data/b.js'], 'src/data/b.ts': [] }));
  assert.equal(r.code, 1);
  assert.match(r.out, /tensor → data is not allowed by the README's table:\n {4}src\/tensor\/c\.ts → src\/data\/b\.ts/);
});

test('folders importing each other fail even when the table allows both arrows, and the table itself must be one-way', () => {
  const r = check(tree(['train → data', 'data → train'], { 'src/train/a.ts': ['../data/b.js'], 'src/data/b.ts': ['../train/a.js'] }));
  assert.equal(r.code, 1);
  assert.match(r.out, /the README's table itself has a cycle: data ↔ train/);
  assert.match(r.out, /folders import each other: data ↔ train/);
});

test('files importing each other fail, type-only imports included', () => {
  const r = check(tree(layers, { 'src/data/a.ts': ['./b.js'], 'src/data/b.ts': ['./x.js', './a.js'], 'src/data/x.ts': [] }));
  assert.equal(r.code, 1);
  assert.match(r.out, /files import each other: src\/data\/a\.ts ↔ src\/data\/b\.ts/);
});

test('a folder missing from the table fails; a pending arrow passes with its note', () => {
  const missing = check(tree(layers, { 'src/extra/a.ts': ['../tensor/c.js'], 'src/tensor/c.ts': [] }));
  assert.equal(missing.code, 1);
  assert.match(missing.out, /src\/extra\/ is not in the README's table/);
  const pending = check(tree([...layers, 'pending: data → train  until the other branch lands'], { 'src/data/b.ts': ['../train/a.js'], 'src/train/a.ts': [] }));
  assert.equal(pending.code, 0, pending.out);
  assert.match(pending.out, /pending, allowed by the README's table until removed there:\n {2}data → train \(1 import; until the other branch lands\)/);
});
