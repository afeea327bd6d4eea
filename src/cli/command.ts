/** A CLI command: a name, a summary for `tlcv --help`, its own help, and a run function. */
import { formatHelp, parseArgs, type FlagSpecs, type Parsed } from './args.js';

export interface Command {
  name: string;
  summary: string;
  help(): string;
  run(argv: string[]): Promise<number>;
}

export function defineCommand(o: { name: string; usage: string; summary: string; flags: FlagSpecs; run: (p: Parsed) => Promise<number> }): Command {
  return {
    name: o.name,
    summary: o.summary,
    help: () => formatHelp(o.usage, o.summary, o.flags),
    run: (argv) => o.run(parseArgs(argv, o.flags, o.name)),
  };
}
