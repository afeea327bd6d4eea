// The size budget: source files stay small enough to read in one sitting.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const limits = { '.ts': 400, '.cc': 600, '.h': 600 };
const files = execSync('git ls-files -co --exclude-standard src native test scripts', { encoding: 'utf8' }).split('\n').filter(Boolean);
const over = [];
for (const f of files) {
  const ext = Object.keys(limits).find((e) => f.endsWith(e));
  if (!ext || f.endsWith('.d.ts')) continue;
  const n = readFileSync(f, 'utf8').split('\n').length;
  if (n > limits[ext]) over.push(`${f}: ${n} lines (budget ${limits[ext]})`);
}
if (over.length > 0) {
  console.error(`files over the size budget:\n${over.join('\n')}`);
  process.exit(1);
}
console.log(`size budget: ${files.length} files within limits`);
