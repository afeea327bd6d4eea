import { loadDataset, writeAugmentationGrid } from '../data/index.js';
import { Augmenter, parseAugment } from '../transforms/index.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';

export const augmentCommand = defineCommand({
  name: 'augment',
  usage: 'tlcv augment --data SPEC --augment PRESET --out grid.png [--n N] [--seed S]',
  summary: 'Write a PNG grid of original and augmented samples, to look at an augmentation setting.',
  flags: {
    data: { kind: 'string', help: 'data spec', placeholder: 'SPEC' },
    augment: { kind: 'string', help: 'none, spec, light, standard, or key=value,...', default: 'spec', placeholder: 'PRESET' },
    out: { kind: 'string', help: 'PNG file to write', placeholder: 'FILE' },
    n: { kind: 'int', help: 'samples', min: 1, max: 256, default: 16 },
    seed: { kind: 'int', help: 'seed', min: 0, default: 0 },
  },
  async run(p) {
    const ds = await loadDataset(requireFlag(p, 'data', 'augment'));
    const out = requireFlag(p, 'out', 'augment');
    const seed = p.flags.seed as number;
    await writeAugmentationGrid(ds, new Augmenter(parseAugment(p.flags.augment as string), seed), out, { n: p.flags.n as number, seed });
    console.log(`wrote ${out}`);
    return 0;
  },
});
