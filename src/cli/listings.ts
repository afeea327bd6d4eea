import { getModelConfig, listModels } from '../models/index.js';
import { describeDatasets } from '../data/index.js';
import { defineCommand } from './command.js';

export const modelsCommand = defineCommand({
  name: 'models',
  usage: 'tlcv models',
  summary: 'List the model zoo: input size, normalization, classifier, layer groups.',
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
  summary: 'List the named datasets, whether they are available, and where they were found.',
  flags: {},
  async run() {
    for (const d of describeDatasets()) {
      console.log(`${d.name.padEnd(14)} ${d.available ? 'available' : 'missing  '}  ${d.location}${d.note ? `  (${d.note})` : ''}`);
    }
    return 0;
  },
});
