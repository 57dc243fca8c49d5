#!/usr/bin/env node
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
