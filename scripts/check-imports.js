// The architecture, checked: lists the imports between src/ folders and fails on an arrow the
// README's table ("How it is built") does not allow, on a cycle between folders, and on a cycle
// between files. The table in the README is the one place the rules live; `--list` prints every
// arrow with the files behind it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

// --root DIR checks another tree (the tests give it small ones).
const rootAt = process.argv.indexOf('--root');
if (rootAt >= 0) process.chdir(process.argv[rootAt + 1]);
const README = 'README.md';
const ROOT_FILES = new Set(['errors.ts', 'index.ts']);

/** Rules from the README block that follows the `layers` marker: `folder → a, b, c`, and `pending: a → b` lines. */
function readRules() {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf('<!-- layers:');
  if (at < 0) throw new Error(`${README}: no <!-- layers: --> block before the import table`);
  const block = /```text\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error(`${README}: the layers marker is not followed by a \`\`\`text block`);
  const allowed = new Map();
  const pending = [];
  for (const line of block[1].split('\n')) {
    const p = /^pending:\s*(\S+)\s*→\s*(\S+)\s*(.*)$/.exec(line.trim());
    if (p) {
      pending.push({ from: p[1], to: p[2], note: p[3] });
      continue;
    }
    const m = /^(\S+)\s+→\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const targets = m[2].trim() === '(nothing)' ? [] : m[2].split(',').map((s) => s.trim()).filter(Boolean);
    allowed.set(m[1], new Set(targets));
  }
  return { allowed, pending };
}

function sourceFiles(dir = 'src') {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return sourceFiles(p);
      return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

function importsOf(file) {
  const src = readFileSync(file, 'utf8');
  const out = new Set();
  for (const m of src.matchAll(IMPORT)) out.add(normalize(join(dirname(file), m[1] ?? m[2])).replace(/\.js$/, '.ts'));
  return out;
}

/** `tensor` for src/tensor/x.ts, `errors.ts` for src/errors.ts. */
function folderOf(file) {
  const rel = relative('src', file).split('/');
  return rel.length === 1 ? rel[0] : rel[0];
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const found = [];
  function visit(v) {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) found.push(c.sort());
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const { allowed, pending } = readRules();
const problems = [];
for (const c of cycles(allowed)) problems.push(`the README's table itself has a cycle: ${c.join(' ↔ ')}`);

const files = sourceFiles();
const fileGraph = new Map(files.map((f) => [f, importsOf(f)]));
const arrows = new Map(); // "a → b" -> [file imports]
for (const [file, targets] of fileGraph) {
  const from = folderOf(file);
  for (const t of targets) {
    if (!t.startsWith('src/')) continue;
    const to = folderOf(t);
    if (to === from) continue;
    const key = `${from} → ${to}`;
    if (!arrows.has(key)) arrows.set(key, []);
    arrows.get(key).push(`${file} → ${t}`);
  }
}

const isPending = (from, to) => pending.some((p) => p.from === from && p.to === to);
const folderGraph = new Map();
const pendingSeen = [];
for (const [key, uses] of arrows) {
  const [from, to] = key.split(' → ');
  if (!folderGraph.has(from)) folderGraph.set(from, new Set());
  if (!folderGraph.has(to)) folderGraph.set(to, new Set());
  if (to === 'errors.ts' && from !== 'errors.ts') continue; // every folder may use the error family
  if (from === 'index.ts' && to !== 'cli' && to !== 'bench') continue; // the package entry re-exports the library
  if (isPending(from, to)) {
    pendingSeen.push(`${key} (${uses.length} import${uses.length > 1 ? 's' : ''}; ${pending.find((p) => p.from === from && p.to === to).note || 'pending'})`);
    continue;
  }
  folderGraph.get(from).add(to);
  if (!ROOT_FILES.has(from) && !allowed.has(from)) problems.push(`src/${from}/ is not in the README's table: add it with what it may import (${uses[0]})`);
  else if (!ROOT_FILES.has(from) && !allowed.get(from).has(to)) problems.push(`${key} is not allowed by the README's table:\n    ${uses.slice(0, 5).join('\n    ')}`);
  else if (ROOT_FILES.has(from)) problems.push(`${key} is not allowed: src/${from} ${from === 'errors.ts' ? 'is a leaf' : 'does not import the CLI or the bench'}`);
}
for (const c of cycles(folderGraph)) problems.push(`folders import each other: ${c.join(' ↔ ')}`);
for (const c of cycles(fileGraph)) problems.push(`files import each other: ${c.join(' ↔ ')}`);

if (process.argv.includes('--list')) {
  for (const [key, uses] of [...arrows].sort()) console.log(`${key.padEnd(26)} ${uses.length}`);
}
if (pendingSeen.length > 0) console.log(`pending, allowed by the README's table until removed there:\n  ${pendingSeen.join('\n  ')}`);
if (problems.length > 0) {
  console.error(`import check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`imports: ${files.length} files, ${arrows.size} arrows between src/ folders, all allowed; no cycles`);
