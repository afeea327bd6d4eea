/**
 * The `tlcv` command line: a thin shell over the library. User errors print one line
 * and exit 2; anything else is a bug and keeps its stack (exit 1).
 */
import { isUserError } from '../errors.js';
import type { Command } from './command.js';
import { pretrainCommand } from './pretrain.js';
import { transferCommand } from './transfer.js';
import { evaluateCommand } from './evaluate.js';
import { predictCommand } from './predict.js';
import { demoCommand } from './demo.js';
import { modelsCommand, datasetsCommand } from './listings.js';
import { augmentCommand } from './augment.js';
import { benchCommand } from './bench.js';
import { exportCommand } from './export.js';
import { serveCommand } from './serve.js';

const COMMANDS: Command[] = [
  pretrainCommand,
  transferCommand,
  evaluateCommand,
  predictCommand,
  demoCommand,
  modelsCommand,
  datasetsCommand,
  augmentCommand,
  benchCommand,
  exportCommand,
  serveCommand,
];

function usage(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return `tlcv — transfer learning for computer vision (libtorch in Node.js)

Usage: tlcv <command> [flags]

Commands:
${rows.join('\n')}

Run \`tlcv <command> --help\` for a command's flags.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) {
    console.error(`tlcv: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help());
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isUserError(e)) {
      console.error(`tlcv ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof Error && e.name === 'TlcvError') {
      console.error(`tlcv ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
