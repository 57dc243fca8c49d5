#!/usr/bin/env -S node --max-semi-space-size=8
// The young generation's size trades memory for speed (bench/backlog.mjs and bench/stomp-bench.mjs, one
// machine): Node's default 16 MiB semi-spaces peaked at 247-265 MiB resident while paging a million-
// message backlog, 4 MiB held 201 MiB but cost ~30% of persistent throughput, 8 MiB holds 208 MiB at ~5%.
// Run the broker through this shebang (as npx does), not through `node`, to get it.
import { main } from '../dist/main.js';

/**
 * Once main is done the process should end by itself. If some handle still holds the event loop open
 * (a socket or timer something forgot), say so and exit anyway rather than hang a service manager or a test.
 */
const LINGER_MS = 3000;

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  setTimeout(() => {
    process.stderr.write('mini-amq: open handles kept the process alive after it finished; exiting\n');
    process.exit(code);
  }, LINGER_MS).unref();
});
