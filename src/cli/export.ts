import { exportModelFolder, EXPORT_FORMATS, type ExportFormat } from '../deploy/index.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';

export const exportCommand = defineCommand({
  name: 'export',
  usage: 'tlcv export --model DIR --format onnx|web --out PATH',
  summary: 'Export a model folder as an ONNX file, or as an offline web page that classifies images in the browser.',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR' },
    format: { kind: 'string', help: 'onnx: one .onnx file; web: a folder with index.html, model.onnx and onnxruntime-web', choices: EXPORT_FORMATS, default: 'onnx' },
    out: { kind: 'string', help: 'the .onnx file, or the folder for the web page', placeholder: 'PATH' },
  },
  async run(p) {
    const dir = requireFlag(p, 'model', 'export');
    const out = requireFlag(p, 'out', 'export');
    const format = p.flags.format as ExportFormat;
    const { onnxBytes } = exportModelFolder(dir, { format, out });
    const what = format === 'web' ? `web page in ${out}/ (serve the folder, e.g. python3 -m http.server, and open index.html)` : out;
    console.error(`wrote ${what}: ONNX model of ${(onnxBytes / 1e6).toFixed(1)} MB`);
    return 0;
  },
});
