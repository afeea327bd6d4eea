/**
 * What the docs test reads in the Markdown files: the fenced code blocks (with the HTML-comment
 * directive on the line before each), the inline `tlcv ...` commands outside them, and the
 * `tlcv` command lines inside shell blocks; and what it checks those command lines against: the
 * commands and flags that `tlcv --help` and `tlcv COMMAND --help` print.
 */
import { spawnSync } from 'node:child_process';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** From `<!-- expect: REGEX -->` on the line before the fence. */
  expect?: RegExp;
  /** From `<!-- file: NAME -->` on the line before the fence. */
  writeTo?: string;
}

export interface InlineCommand {
  file: string;
  line: number;
  text: string;
}

/** The fenced blocks of a Markdown text, and the inline code spans that start with `tlcv `. */
export function readBlocks(file: string, text: string): { blocks: DocBlock[]; inline: InlineCommand[] } {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  const inline: InlineCommand[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) {
      for (const m of lines[i]!.matchAll(/`(tlcv [^`]+)`/g)) inline.push({ file, line: i + 1, text: m[1]! });
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i += 1) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block that is never closed`);
    const block: DocBlock = { file, line: start + 1, lang: open[2]!, code: `${body.join('\n')}\n` };
    const directive = /^<!--\s*(expect|file):\s*(.*?)\s*-->$/.exec(lines[start - 1]?.trim() ?? '');
    if (directive?.[1] === 'expect') block.expect = new RegExp(directive[2]!);
    if (directive?.[1] === 'file') block.writeTo = directive[2]!;
    blocks.push(block);
  }
  return { blocks, inline };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors of a Markdown text's headings (outside code blocks), and its relative links. */
export function readLinks(text: string): { anchors: Set<string>; links: { line: number; target: string }[] } {
  const anchors = new Set<string>();
  const links: { line: number; target: string }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) return;
    const h = /^#{1,6} (.*)$/.exec(line);
    if (h) anchors.add(headingAnchor(h[1]!));
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!)) links.push({ line: i + 1, target: m[1]! });
  });
  return { anchors, links };
}

/** Shell words of one command line (quotes honoured), split into commands at |, &&, || and ;. */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | null = null;
  const end = (): void => {
    if (word !== null) commands[commands.length - 1]!.push(word);
    word = null;
  };
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close < 0) throw new Error(`unclosed quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, close);
      i = close;
    } else if (c === '#' && word === null) {
      break;
    } else if (/\s/.test(c)) {
      end();
    } else if (c === '|' || c === ';' || (c === '&' && line[i + 1] === '&')) {
      end();
      if (line[i + 1] === c) i += 1;
      commands.push([]);
    } else {
      word = (word ?? '') + c;
    }
  }
  end();
  return commands.filter((c) => c.length > 0);
}

/** Each shell command line of a block (continuation lines joined), as its line number and words. */
export function shellLines(block: DocBlock): { line: number; words: string[] }[] {
  const out: { line: number; words: string[] }[] = [];
  const lines = block.code.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const at = i;
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + lines[(i += 1)]!;
    for (const words of shellCommands(text)) out.push({ line: block.line + 1 + at, words });
  }
  return out;
}

/** The words after `tlcv` when a command runs tlcv (`tlcv`, `node bin/tlcv.js`, after VAR=value prefixes), else null. */
export function tlcvArgs(words: string[]): string[] | null {
  let i = 0;
  while (i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!)) i += 1;
  const rest = words.slice(i);
  const args = rest[0] === 'tlcv' ? rest.slice(1) : rest[0] === 'node' && /(^|\/)bin\/tlcv\.js$/.test(rest[1] ?? '') ? rest.slice(2) : null;
  // Redirections are the shell's, not the command's.
  return args === null ? null : args.filter((w, k) => !/^\d?>>?(&\d)?$/.test(w) && !/^\d?>>?$/.test(args[k - 1] ?? '') && !/^\d?>>?\S/.test(w));
}

export interface FlagHelp {
  /** What follows the flag in --help: a placeholder (N, SPEC), a kind (INT, NUMBER) or choices (a|b); none for a switch. */
  value: string | null;
  required: boolean;
  /** An old spelling kept for a release: the docs must not use it. */
  deprecated: boolean;
}

export interface CommandHelp {
  usage: string;
  flags: Map<string, FlagHelp>;
}

/** Every command's usage and flags, as the built CLI prints them with --help. */
export function readCliHelp(bin: string): Map<string, CommandHelp> {
  const run = (args: string[]): string => {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tlcv ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const top = run(['--help']);
  const names = [...top.slice(top.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*) +\S/gm)].map((m) => m[1]!);
  const out = new Map<string, CommandHelp>();
  for (const name of names) {
    const text = run([name, '--help']);
    const flags = new Map<string, FlagHelp>();
    for (const m of text.matchAll(/^ {2}--([\w-]+)( \S+)?( +)(.*)$/gm)) {
      flags.set(m[1]!, { value: m[2]?.trim() ?? null, required: / \(required\)$/.test(m[4]!), deprecated: /^the old spelling of/.test(m[4]!) });
    }
    out.set(name, { usage: text.split('\n')[0]!, flags });
  }
  return out;
}

/**
 * The commands of an inline code span: split at a spaced |, && or ; (a pipe), while `a|b` stays one
 * word, as prose writes a flag's alternatives (`--mode ncm|knn|probe`, escaped `\|` in a table).
 */
export function inlineCommands(text: string): string[][] {
  return text
    .replace(/\\\|/g, '|')
    .split(/\s+(?:\||&&|;)\s+/)
    .map((part) => part.trim().split(/\s+/).filter((w) => w !== ''));
}

/** What a flag's value must be, from its --help placeholder: choices, a number, or anything. */
function valueProblem(flag: string, value: string, shown: string): string | null {
  if (shown === 'INT') return /^-?\d+$/.test(value) ? null : `--${flag} takes an integer, not ${JSON.stringify(value)}`;
  if (shown === 'NUMBER') return Number.isFinite(Number(value)) && value.trim() !== '' ? null : `--${flag} takes a number, not ${JSON.stringify(value)}`;
  const options = shown.split('|');
  // Lower-case alternatives are the choices; an upper-case one (N|all, FRAC|none|SPEC) is a placeholder.
  if (options.length > 1 && options.every((o) => !/[A-Z]/.test(o))) {
    return options.includes(value) ? null : `--${flag} takes one of ${shown}, not ${JSON.stringify(value)}`;
  }
  return null;
}

/**
 * Problems with one tlcv command line against the CLI's help: an unknown command or flag, an old
 * spelling, a missing or wrong value, a file given to a command that takes none, and (when
 * `complete`) a required flag left out. Empty when the line is right.
 */
export function checkCommand(args: string[], cli: Map<string, CommandHelp>, complete: boolean): string[] {
  const [name, ...rest] = args;
  if (name === undefined) return ['no command after tlcv'];
  if (name === '--help' && rest.length === 0) return [];
  const help = cli.get(name);
  if (help === undefined) return [`unknown command ${JSON.stringify(name)} (tlcv has ${[...cli.keys()].join(', ')})`];
  const problems: string[] = [];
  const given = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const word = rest[i]!;
    if (!word.startsWith('--')) {
      // Prose may shorten a command with "..."; a block must not.
      if (complete || word !== '...') positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const flag = word.slice(2, eq < 0 ? undefined : eq);
    if (flag === 'help') continue;
    const spec = help.flags.get(flag);
    if (spec === undefined) {
      problems.push(`tlcv ${name} has no flag --${flag}`);
      continue;
    }
    given.add(flag);
    if (spec.deprecated) problems.push(`--${flag} is an old spelling (tlcv ${name} --help names the new one)`);
    if (spec.value === null) {
      if (eq >= 0 || ['true', 'false'].includes(rest[i + 1] ?? '')) i += eq >= 0 ? 0 : 1;
      continue;
    }
    const value = eq >= 0 ? word.slice(eq + 1) : rest[(i += 1)];
    if (value === undefined || (value.startsWith('--') && !/^--?\d/.test(value))) {
      problems.push(`--${flag} needs a value (${spec.value})`);
      if (value !== undefined) i -= 1;
      continue;
    }
      // Prose may list a flag's alternatives (`--method adabn|dann`): each must be one.
    // and may name a placeholder (`--mode MODE`); a block gives real values.
    if (!complete && /^[A-Z][A-Z0-9_-]*$/.test(value)) continue;
    for (const v of complete ? [value] : value.split('|')) {
      const bad = valueProblem(flag, v, spec.value);
      if (bad !== null) problems.push(bad);
    }
  }
  // A command takes files only when its usage line says so (FILE...).
  if (positional.length > 0 && !/ [A-Z]+\.\.\./.test(help.usage)) problems.push(`tlcv ${name} takes no files or words besides its flags, got ${positional.join(' ')}`);
  if (complete) for (const [flag, spec] of help.flags) if (spec.required && !given.has(flag)) problems.push(`tlcv ${name} needs --${flag}`);
  return problems;
}
