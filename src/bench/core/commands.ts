/**
 * Sections that run the real `tlcv` commands a user would type (fewshot, adapt), one process
 * each, so that every figure in their tables comes with the command that produced it
 * (shown with the bench's scratch folder as `runs/`) and its wall time includes everything the
 * user waits for: start-up, data loading, plan timing, the fit and writing the folder.
 */
import { spawn } from 'node:child_process';
import { TlcvError } from '../../errors.js';
import { benchEnv, packageFile } from './workers.js';

export interface CommandRun {
  /** The command as a user would type it. */
  command: string;
  /** Wall time of the process. */
  seconds: number;
  stdout: string;
}

/**
 * @example
 * const runs = new CommandRunner(ctx.dir, 2, console.log);
 * const r = await runs.tlcv(['evaluate', '--model', runs.path('source'), '--data', 'mnist:test', '--json']);
 */
export class CommandRunner {
  constructor(
    readonly dir: string,
    readonly threads: number,
    readonly log: (line: string) => void,
  ) {}

  /** A folder for a run's output, inside the scratch folder. */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** The command line as shown in reports: `tlcv ...`, with the scratch folder as `runs`. */
  show(args: string[]): string {
    const text = args.map((a) => a.split(this.dir).join('runs')).map((a) => (/^[\w@:=,./+-]+$/.test(a) ? a : `'${a}'`));
    return `tlcv ${text.join(' ')}`;
  }

  /** Runs `tlcv args`; a failed command fails the section with its last lines of stderr. */
  tlcv(args: string[]): Promise<CommandRun> {
    const command = this.show(args);
    this.log(`  $ ${command}`);
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [packageFile('bin/tlcv.js'), ...args], { env: benchEnv(this.threads), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
      child.on('error', (e) => reject(e));
      child.on('close', (code) => {
        if (code !== 0) reject(new TlcvError('TRAINING', `${command} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
        else resolve({ command, seconds: (performance.now() - t0) / 1000, stdout });
      });
    });
  }

  /** `tlcv evaluate --json` of a model folder on a data spec: the accuracy and the command. */
  async accuracy(model: string, data: string): Promise<{ accuracy: number; command: string }> {
    const r = await this.tlcv(['evaluate', '--model', model, '--data', data, '--json']);
    const accuracy = (JSON.parse(r.stdout) as { accuracy: number }).accuracy;
    return { accuracy, command: r.command };
  }
}

/** A data spec with more modifiers: `mnist:test` + `k=10` is `mnist:test@k=10`, `mnist:test@classes=0-4` + `k=10` joins with a comma. */
export function withModifiers(spec: string, modifiers: string): string {
  return `${spec}${spec.includes('@') ? ',' : '@'}${modifiers}`;
}
