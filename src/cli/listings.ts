import { getModelConfig, listModels } from '../models/index.js';
import { describeDatasets } from '../data/index.js';
import { defineCommand } from './command.js';

export const modelsCommand = defineCommand({
  name: 'models',
  usage: 'tlcv models',
  flags: {},
  async run() {
    for (const name of listModels()) {
      const m = getModelConfig(name);
      const [c, h, w] = m.inputSize;
      console.log(`${m.name.padEnd(18)} input ${c}x${h}x${w}  classifier ${m.classifier}  ${m.pretrained ? `pretrained: ${m.pretrained.url}` : 'no pretrained weights'}`);
    }
    return 0;
  },
});

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
