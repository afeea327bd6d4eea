import { loadDataset } from '../data/index.js';
import { Augmenter, parseAugment, writeAugmentationGrid } from '../transforms/index.js';
import { defineCommand } from './command.js';

export const augmentCommand = defineCommand({
  name: 'augment',
  usage: 'tlcv augment --data SPEC --augment PRESET --out grid.png [--n N] [--seed S]',
  flags: {
    data: { kind: 'string', help: 'data spec', placeholder: 'SPEC', required: true },
    augment: { kind: 'string', help: 'none, spec, light, standard, or key=value,...', default: 'spec', placeholder: 'PRESET' },
    out: { kind: 'string', help: 'PNG file to write', placeholder: 'FILE', required: true },
    n: { kind: 'int', help: 'samples', min: 1, max: 256, default: 16 },
    seed: { kind: 'int', help: 'seed', min: 0, default: 0 },
  },
  async run({ flags: f }) {
    const ds = await loadDataset(f.data);
    await writeAugmentationGrid(ds, new Augmenter(parseAugment(f.augment), f.seed), f.out, { n: f.n, seed: f.seed });
    console.log(`wrote ${f.out}`);
    return 0;
  },
});
