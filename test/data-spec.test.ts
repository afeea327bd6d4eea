import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDataSpec, loadDataset, DATA_KINDS } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';

test('valid sources parse to their parts', () => {
  assert.deepEqual(parseDataSpec('fashion-mnist:train').source, { kind: 'fashion-mnist', split: 'train' });
  assert.deepEqual(parseDataSpec('mnist:test').source, { kind: 'mnist', split: 'test' });
  assert.deepEqual(parseDataSpec('mnist:all').source, { kind: 'mnist', split: 'all' });
  assert.deepEqual(parseDataSpec('idx:/d/img.gz,/d/lab.gz').source, { kind: 'idx', images: '/d/img.gz', labels: '/d/lab.gz' });
  assert.deepEqual(parseDataSpec('folder:/photos').source, { kind: 'folder', dir: '/photos' });
  assert.deepEqual(parseDataSpec('folder:/photos:val').source, { kind: 'folder', dir: '/photos', split: 'val' });
  // A colon that is not a split stays in the path; an @ that is not a modifier too.
  assert.deepEqual(parseDataSpec('folder:/a:b').source, { kind: 'folder', dir: '/a:b' });
  assert.deepEqual(parseDataSpec('folder:/pics@2x/set').source, { kind: 'folder', dir: '/pics@2x/set' });
  assert.deepEqual(parseDataSpec('cifar10:/data/c10:test').source, { kind: 'cifar10', dir: '/data/c10', split: 'test' });
  assert.deepEqual(parseDataSpec('cifar100:train').source, { kind: 'cifar100', split: 'train' });
  assert.deepEqual(parseDataSpec('mnist:train').modifiers, {});
});

test('modifiers parse, in any order, with lists continued by bare words', () => {
  assert.deepEqual(parseDataSpec('mnist:train@k=10,seed=1').modifiers, { k: 10, seed: 1 });
  assert.deepEqual(parseDataSpec('mnist:all@seed=3,k=10,rest').modifiers, { k: 10, seed: 3, rest: true });
  assert.deepEqual(parseDataSpec('mnist:train@frac=0.1,stratify=0').modifiers, { frac: 0.1, stratify: false });
  assert.deepEqual(parseDataSpec('mnist:train@classes=0,1,2').modifiers, { classes: ['0', '1', '2'] });
  assert.deepEqual(parseDataSpec('mnist:train@classes=5-9,remap=0,k=3').modifiers, { classes: ['5', '6', '7', '8', '9'], remap: false, k: 3 });
  assert.deepEqual(parseDataSpec('folder:x@classes=cat+dog').modifiers, { classes: ['cat', 'dog'] });
  assert.deepEqual(parseDataSpec('mnist:test@shift=rotate:30').modifiers, { shift: { rotate: 30 } });
  assert.deepEqual(parseDataSpec('mnist:test@shift=rotate:-45:45+invert,noise:0.1,n=50').modifiers, {
    shift: { rotate: [-45, 45], invert: true, noise: 0.1 },
    n: 50,
  });
  assert.deepEqual(parseDataSpec('mnist:test@shift=translate:0.1').modifiers, { shift: { translate: 0.1 } });
});

/** Asserts a DATA_SPEC error whose message matches every pattern. */
function bad(spec: string, ...patterns: RegExp[]): void {
  assert.throws(
    () => parseDataSpec(spec),
    (e: unknown) => {
      assert.ok(e instanceof TlcvError, `expected TlcvError for ${spec}`);
      assert.equal(e.code, 'DATA_SPEC');
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
    spec,
  );
}

test('each kind of error says which part is wrong', () => {
  bad('nosuchkind:x', /unknown data kind "nosuchkind" in "nosuchkind:x": expected one of fashion-mnist, mnist, idx, folder, cifar10, cifar100/);
  bad('', /empty/);
  bad('mnist', /"mnist" needs more after the colon/);
  bad('mnist:', /needs more/);
  bad('mnist:validation', /unknown mnist split "validation": expected train, test or all/);
  bad('idx:onlyone', /two paths separated by one comma/);
  bad('idx:a,b,c', /two paths/);
  bad('folder::train', /folder needs a folder before the split/);
  bad('cifar10:/d:val', /train or test \(found "val"\)/);
  bad('cifar10::test', /empty folder/);
  bad('mnist:train@k=0', /k=0: expected a positive integer/);
  bad('mnist:train@k=1.5', /k=1.5/);
  bad('mnist:train@frac=1', /frac=1: expected a fraction strictly between 0 and 1/);
  bad('mnist:train@seed=-1', /seed=-1/);
  bad('mnist:train@bogus=1', /unknown modifier "bogus"/);
  bad('mnist:train@k=1,k=2', /given twice/);
  bad('mnist:train@k=1,frac=0.5', /give one/);
  bad('mnist:train@rest', /"rest" needs k= or frac=/);
  bad('mnist:train@k=2,', /empty modifier/);
  bad('mnist:train@seed', /"seed" needs a value/);
  bad('mnist:train@remap=1', /remap= needs classes=/);
  bad('mnist:train@classes=3-1', /class range 3-1/);
  bad('mnist:train@shift=spin:3', /unknown shift "spin"/);
  bad('mnist:train@shift=rotate:abc', /shift rotate/);
  bad('mnist:train@shift=noise:2', /noise/);
  bad('mnist:train@shift=rotate:10:5', /low end is above/);
});

test('loading applies modifiers: classes remap, k with rest, n, and unknown class names', async () => {
  const sub = await loadDataset('mnist:test@classes=7+3,k=5,seed=2');
  assert.deepEqual(sub.classes, ['7', '3']);
  assert.equal(sub.n, 10);
  assert.deepEqual([...new Set(sub.labels)].sort(), [0, 1]);
  const keep = await loadDataset('mnist:test@classes=7+3,remap=0');
  assert.equal(keep.classes.length, 10);
  assert.deepEqual([...new Set(keep.labels)].sort(), [3, 7]);
  const all = await loadDataset('mnist:test@classes=7+3');
  const rest = await loadDataset('mnist:test@classes=7+3,k=5,seed=2,rest');
  assert.equal(rest.n, all.n - 10);
  const boot = await loadDataset('mnist:test@n=2000,seed=1');
  assert.equal(boot.n, 2000);
  assert.equal(boot.name, 'mnist:test@n=2000,seed=1');
  await assert.rejects(loadDataset('mnist:test@classes=eleven'), (e: unknown) => e instanceof TlcvError && e.code === 'DATA_SPEC' && /class "eleven" is not in/.test(e.message));
});

test('property: any string parses or throws a DATA_SPEC TlcvError, never anything else', () => {
  const pieces = fc.constantFrom(...DATA_KINDS, ':', '@', ',', '=', '+', '-', 'train', 'test', 'val', 'k', 'frac', 'seed', 'rest', 'shift', 'rotate', 'classes', '0', '1', '0.5', '/', 'x');
  const structured = fc.array(pieces, { maxLength: 12 }).map((a) => a.join(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), structured), (s) => {
      try {
        const spec = parseDataSpec(s);
        assert.ok(DATA_KINDS.includes(spec.source.kind));
      } catch (e) {
        assert.ok(e instanceof TlcvError && e.code === 'DATA_SPEC', `unexpected ${String(e)} for ${JSON.stringify(s)}`);
      }
    }),
    { numRuns: 2000, seed: 11 },
  );
});
