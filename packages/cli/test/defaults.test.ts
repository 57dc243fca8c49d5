/**
 * Goal: `mini-amq start` with no file and no flags runs the broker exactly as the embeddable broker's own
 * defaults would, and a replicated member as the replication package's own defaults would; the CLI states
 * its defaults itself (for --help and README), so this keeps them equal. Method: compare CLI_DEFAULTS with
 * BROKER_DEFAULTS key by key, and REPLICATION_DEFAULTS and SYNC_MODES with @mini-amq/replication's.
 */
import { BROKER_DEFAULTS } from '@mini-amq/broker';
import { SYNC_MODES as REPLICATION_SYNC_MODES, ZK_SESSION_TIMEOUT_MS_DEFAULT } from '@mini-amq/replication';
import { expect, it } from 'vitest';
import { CLI_DEFAULTS, REPLICATION_DEFAULTS, SYNC_MODES, resolveConfig } from '../src/config.js';

it('every broker setting the CLI fills in defaults to the broker\'s own default', () => {
  const broker = resolveConfig(undefined, {}, { cwd: '/' }).broker;
  for (const key of Object.keys(broker) as Array<keyof typeof broker>) {
    if (key === 'dataDir') continue; // the CLI makes it absolute; compared below as given
    expect({ key, value: broker[key] }).toEqual({ key, value: BROKER_DEFAULTS[key] });
  }
  expect(CLI_DEFAULTS.dataDir).toBe(BROKER_DEFAULTS.dataDir);
});

it('a member with no replication settings gets REPLICATION_DEFAULTS, which are frozen', () => {
  expect(Object.isFrozen(REPLICATION_DEFAULTS)).toBe(true);
  const { zkPathParent, ...defaults } = REPLICATION_DEFAULTS;
  const replication = resolveConfig(undefined, { brokerName: 'b1', group: 'g1' }, { cwd: '/' }).replication;
  expect(replication).toEqual({ ...defaults, group: 'g1', zkPath: `${zkPathParent}/g1`, hostname: '127.0.0.1' });
});

it('the sync modes and the session timeout are the replication package\'s own (checked here, not imported by the CLI)', () => {
  expect([...SYNC_MODES].sort()).toEqual([...REPLICATION_SYNC_MODES].sort());
  expect(REPLICATION_DEFAULTS.zkSessionTimeoutMs).toBe(ZK_SESSION_TIMEOUT_MS_DEFAULT);
  expect(REPLICATION_SYNC_MODES).toContain(REPLICATION_DEFAULTS.sync);
});
