#!/usr/bin/env node
import('../dist/src/cli/main.js').then(
  (m) =>
    m.main(process.argv.slice(2)).then((code) => {
      process.exitCode = code;
    }),
  (e) => {
    // The CLI itself did not load: an unbuilt checkout, most likely.
    console.error(`tlcv: could not start (${e.message}); run \`npm ci\` (or \`npm run build\`) in the tlcv folder`);
    process.exitCode = 1;
  },
);
