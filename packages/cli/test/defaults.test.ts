/**
 * Goal: `mini-amq start` with no file and no flags runs the broker exactly as the embeddable broker's own
 * defaults would; the CLI states its defaults itself (for --help and README), so this keeps the two equal.
 * Method: compare CLI_DEFAULTS with BROKER_DEFAULTS key by key.
 */
import { BROKER_DEFAULTS } from '@mini-amq/broker';
import { expect, it } from 'vitest';
import { CLI_DEFAULTS, resolveConfig } from '../src/config.js';

it('every broker setting the CLI fills in defaults to the broker\'s own default', () => {
  const broker = resolveConfig(undefined, {}, { cwd: '/' }).broker;
  for (const key of Object.keys(broker) as Array<keyof typeof broker>) {
    if (key === 'dataDir') continue; // the CLI makes it absolute; compared below as given
    expect({ key, value: broker[key] }).toEqual({ key, value: BROKER_DEFAULTS[key] });
  }
  expect(CLI_DEFAULTS.dataDir).toBe(BROKER_DEFAULTS.dataDir);
});
