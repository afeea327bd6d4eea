/** A CLI command: its usage line, its flags (which type what `run` receives) and a run function. */
import { formatHelp, parseArgs, type FlagSpecs, type Parsed } from './args.js';

export interface Command {
  readonly name: string;
  help(summary: string): string;
  run(argv: string[]): Promise<number>;
}

/**
 * @example
 * export const command = defineCommand({ name: 'hello', usage: 'tlcv hello [--name N]', flags: { name: { kind: 'string', help: 'who', default: 'you' } }, run: async ({ flags }) => (console.log(`hello ${flags.name}`), 0) });
 */
export function defineCommand<const S extends FlagSpecs>(o: { name: string; usage: string; flags: S; run: (p: Parsed<S> & { argv: string[] }) => Promise<number> }): Command {
  return {
    name: o.name,
    help: (summary) => formatHelp(o.usage, summary, o.flags),
    // argv too: a data-parallel launcher starts its workers on the same command line.
    run: (argv) => o.run({ ...parseArgs(argv, o.flags, o.name), argv }),
  };
}
