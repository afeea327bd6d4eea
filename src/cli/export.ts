import { EMBED_MODEL_MAX_BYTES, EXPORT_FORMATS } from '../deploy/index.js';
import { load } from '../runs/index.js';
import { defineCommand } from './command.js';

export const exportCommand = defineCommand({
  name: 'export',
  usage: 'tlcv export --model DIR --format onnx|web --out PATH [--overwrite]',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR', required: true },
    format: { kind: 'string', help: 'onnx: one .onnx file; web: a folder with index.html, model.onnx and onnxruntime-web', choices: EXPORT_FORMATS, default: 'onnx' },
    out: { kind: 'string', help: 'the .onnx file, or the folder for the web page', placeholder: 'PATH', required: true },
    overwrite: { kind: 'bool', help: 'replace the file or page already at --out' },
  },
  async run({ flags: f }) {
    const m = await load(f.model);
    try {
      const { onnxBytes } = m.export({ format: f.format, out: f.out, overwrite: f.overwrite });
      // The page embeds a model up to EMBED_MODEL_MAX_BYTES and then opens from disk; a larger one fetches model.onnx, from a server.
      const open = onnxBytes <= EMBED_MODEL_MAX_BYTES ? 'open index.html, from disk or served' : 'serve the folder, e.g. python3 -m http.server, and open index.html there';
      const what = f.format === 'web' ? `web page in ${f.out}/ (${open})` : f.out;
      console.error(`wrote ${what}: ONNX model of ${(onnxBytes / 1e6).toFixed(1)} MB`);
    } finally {
      m.dispose();
    }
    return 0;
  },
});
