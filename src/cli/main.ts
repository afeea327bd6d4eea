/**
 * The `tlcv` command line: a thin shell over the library. User errors print one line and exit
 * 2; an interrupted run exits 128 + the signal's number; anything else is a bug and keeps its
 * stack (exit 1). Commands load when run, so `tlcv --help` needs none of them, and nothing
 * here needs the native addon until a command computes.
 */
import { isUserError } from '../errors.js';
import type { Command } from './command.js';

interface Entry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const COMMANDS: Entry[] = [
  { name: 'pretrain', summary: 'Train a source model from scratch on a source dataset.', load: async () => (await import('./pretrain.js')).pretrainCommand },
  {
    name: 'transfer',
    summary: 'Adapt a source model to a labelled target dataset: feature extraction, fine-tuning, or a training-free head (ncm, knn, probe).',
    load: async () => (await import('./transfer.js')).transferCommand,
  },
  {
    name: 'adapt',
    summary: 'Adapt a source model to unlabelled target images: adabn, dann or pseudo-label (target labels are never read).',
    load: async () => (await import('./adapt.js')).adaptCommand,
  },
  { name: 'evaluate', summary: 'Score a model folder on a (target-domain) dataset: accuracy, top-5, per-class P/R/F1, confusion.', load: async () => (await import('./evaluate.js')).evaluateCommand },
  { name: 'predict', summary: 'Classify image files with a model folder.', load: async () => (await import('./predict.js')).predictCommand },
  {
    name: 'demo',
    summary: "The spec's story on embedded data: Fashion-MNIST source → MNIST digits target, scratch vs feature extraction vs fine-tuning.",
    load: async () => (await import('./demo.js')).demoCommand,
  },
  { name: 'models', summary: 'The model zoo, to choose from: parameters, GFLOPs, input and preprocessing, images/s measured here, weights.', load: async () => (await import('./models.js')).modelsCommand },
  { name: 'datasets', summary: 'List the named datasets, whether they are available, and where they were found.', load: async () => (await import('./listings.js')).datasetsCommand },
  { name: 'augment', summary: 'Write a PNG grid of original and augmented samples, to look at an augmentation setting.', load: async () => (await import('./augment.js')).augmentCommand },
  {
    name: 'bench',
    summary: 'tlcv against the PyTorch peer on this machine: throughput, transfer learning, memory; prints a table and writes bench.json.',
    load: async () => (await import('./bench.js')).benchCommand,
  },
  { name: 'export', summary: 'Export a model folder as an ONNX file or an offline web page.', load: async () => (await import('./export.js')).exportCommand },
  { name: 'serve', summary: 'Serve a model folder over HTTP: POST /predict, GET /healthz, the web page at /.', load: async () => (await import('./serve.js')).serveCommand },
  {
    name: 'doctor',
    summary: 'Check an image folder before training: corrupt files, exact and near duplicates, train/test leakage, class balance, sizes, colour modes, likely label errors.',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  {
    name: 'fit',
    summary: 'The best model a time budget buys: training-free heads, feature extraction, fine-tuning, each only when it fits; a leaderboard.',
    load: async () => (await import('./fit.js')).fitCommand,
  },
  { name: 'lr-find', summary: "fastai's learning-rate finder: a short sweep of rising rates, the loss plotted, a rate suggested.", load: async () => (await import('./lr-find.js')).lrFindCommand },
];

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

function usage(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return `tlcv — transfer learning for computer vision (libtorch in Node.js)

Usage: tlcv <command> [flags]

Commands:
${rows.join('\n')}

Run \`tlcv <command> --help\` for a command's flags.`;
}

/**
 * Runs one command line; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['models']);
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    console.error(`tlcv: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  try {
    const cmd = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(cmd.help(entry.summary));
      return 0;
    }
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof Error && e.name === 'TrainingInterrupted') {
      console.error(`tlcv ${name}: ${e.message}`);
      return 128 + (SIGNAL_NUMBERS[(e as Error & { signal: NodeJS.Signals }).signal] ?? 0);
    }
    if (isUserError(e)) {
      console.error(`tlcv ${name}: ${e.message}`);
      return 2;
    }
    // The addon did not load: its message says how to fix that, and a stack would hide it.
    if (e instanceof Error && e.name === 'TlcvError') {
      console.error(`tlcv ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
