import { describeDatasets } from '../data/index.js';
import { defineCommand } from './command.js';

export const datasetsCommand = defineCommand({
  name: 'datasets',
  usage: 'tlcv datasets',
  flags: {},
  async run() {
    for (const d of describeDatasets()) {
      console.log(`${d.name.padEnd(14)} ${d.available ? 'available' : 'missing  '}  ${d.location}${d.note ? `  (${d.note})` : ''}`);
    }
    return 0;
  },
});
