import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The src/ folders (or root files) a folder's TS files import from. */
function importsOf(folder: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of readdirSync(join('src', folder)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join('src', folder, file), 'utf8');
    for (const m of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const spec = m[1]!;
      const target = spec.startsWith('./') ? folder : spec.split('/')[1]!.replace(/\.js$/, '');
      out.set(target, [...(out.get(target) ?? []), `${file} -> ${spec}`]);
    }
  }
  return out;
}

test('sampling is a leaf under data and transforms, and data and transforms do not import each other', () => {
  const sampling = importsOf('sampling');
  assert.deepEqual([...sampling.keys()].filter((k) => !['sampling', 'tensor', 'errors'].includes(k)), [], 'src/sampling imports only src/tensor and errors');
  const transforms = importsOf('transforms');
  assert.deepEqual(transforms.get('data') ?? [], [], 'src/transforms imports nothing from src/data');
  // data -> transforms is left only as index.ts's re-export of the grid writer for the CLI.
  const data = importsOf('data');
  assert.deepEqual(data.get('transforms') ?? [], ["index.ts -> ../transforms/grid.js"]);
});
