#!/usr/bin/env -S node --max-semi-space-size=4
// A young generation of 4 MiB semi-spaces (Node's default grows them to 16) keeps the broker's resident
// memory under 256 MiB while it pages a million-message backlog through (bench/backlog.mjs: 236 MiB peak
// with it, 265 without); short-lived frames die young either way. Run through this shebang, not `node`.
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
