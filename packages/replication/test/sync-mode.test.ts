// Sync modes: ActiveMQ's comma lists parsed to rules, a story of when writes complete
// (testdata/sync-modes.txt), and each mode's completion condition checked exactly on a master driven by
// hand: what its own persist (written or fsynced) and its slaves' ACKs (in memory or durable) must say.
import { describe, expect, it } from 'vitest';
import { ReplicaNode } from '../src/core/node.js';
import { parseSync } from '../src/core/sync-mode.js';
import type { CoordinatorView, MemberRecord, NodeEvent, Ready } from '../src/core/types.js';
import { runScriptFile, scriptPath } from './script/script.js';

describe('parseSync', () => {
  it("reads ActiveMQ's modes and lists; the stronger setting wins", () => {
    expect(parseSync('quorum_mem')).toEqual({ name: 'quorum_mem', masterDisk: false, remote: true, slaveDisk: false });
    expect(parseSync('local_disk, remote_disk')).toMatchObject({ name: 'quorum_disk' });
    expect(parseSync('local_mem,local_disk')).toMatchObject({ name: 'local_disk' });
    expect(parseSync('local_disk,remote_mem')).toEqual({
      name: 'local_disk,remote_mem',
      masterDisk: true,
      remote: true,
      slaveDisk: false,
    });
  });

  it('rejects what ActiveMQ would not accept, naming it', () => {
    expect(() => parseSync('quorum')).toThrow("sync: unknown mode 'quorum'");
    expect(() => parseSync(' , ')).toThrow('sync must name at least one of');
  });
});

describe('sync modes story', () => {
  it('sync-modes.txt', () => {
    const [expected, actual] = runScriptFile(scriptPath('sync-modes.txt'));
    expect(actual).toBe(expected);
  });
});

/** A master of epoch 1 with `replicas - 1` slaves logged in and synced, every Ready acted on. */
function master(sync: string, replicas: number): { node: ReplicaNode; slaves: string[] } {
  const node = new ReplicaNode({ id: 'a', replicas, sync, securityToken: 't' });
  const slaves = Array.from({ length: replicas - 1 }, (_, i) => `s${i + 1}`);
  const members: MemberRecord[] = ['a', ...slaves].map((id, i) => ({
    id, seq: i + 1, address: id, weight: 1, position: { epoch: 0, index: 0 }, forEpoch: 0, recovering: false,
  }));
  const view: CoordinatorView = { session: 'connected', members, elected: { epoch: 0, masterId: null, version: 0 } };
  drain(node, { kind: 'coordinator', view });
  drain(node, { kind: 'cas-result', ok: true });
  for (const s of slaves) {
    drain(node, { kind: 'peer', from: s, message: { type: 'LOGIN', epoch: 1, securityToken: 't' } });
    drain(node, { kind: 'peer', from: s, message: { type: 'SYNC', epoch: 1, last: { epoch: 0, index: 0 }, history: [], durableIndex: 0 } });
  }
  expect(node.isServing).toBe(true);
  return { node, slaves };
}

/** Steps an event (if any) and acts on every Ready at once; returns the completions. */
function drain(node: ReplicaNode, event?: NodeEvent): string[] {
  if (event !== undefined) node.step(event);
  const done: string[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    done.push(...rd.complete);
    node.advance(rd);
  }
  return done;
}

function ack(node: ReplicaNode, from: string, index: number, durable: boolean): string[] {
  return drain(node, { kind: 'peer', from, message: { type: 'ACK', epoch: 1, index, durable } });
}

/** Writes w1 and returns the Ready holding its entry, not yet acted on. */
function write(node: ReplicaNode): Ready {
  node.step({ kind: 'write', id: 'w1', payload: 'w1' });
  const rd = node.ready();
  expect(rd.persist.ops).toMatchObject([{ kind: 'append' }]);
  return rd;
}

describe('completion per sync mode', () => {
  it('local_mem: once written, without fsync and without slaves', () => {
    const { node } = master('local_mem', 3);
    const rd = write(node);
    expect(rd.persist.sync).toBe(false);
    node.advance(rd);
    expect(drain(node)).toEqual(['w1']);
  });

  it('local_disk: once fsynced; no slave waited for', () => {
    const { node } = master('local_disk', 3);
    const rd = write(node);
    expect(rd.persist.sync).toBe(true);
    expect(drain(node)).toEqual([]); // the Ready is not acted on yet
    node.advance(rd);
    expect(drain(node)).toEqual(['w1']);
  });

  for (const mode of ['remote_mem', 'quorum_mem']) {
    it(`${mode}: replicas/2 slaves holding it in memory (2 of 4 with replicas=5); no fsync`, () => {
      const { node, slaves } = master(mode, 5);
      const rd = write(node);
      expect(rd.persist.sync).toBe(false);
      node.advance(rd);
      expect(drain(node)).toEqual([]);
      expect(ack(node, slaves[0]!, 1, false)).toEqual([]);
      expect(ack(node, slaves[0]!, 1, false)).toEqual([]); // the same slave twice is still one
      expect(ack(node, slaves[1]!, 1, false)).toEqual(['w1']);
    });
  }

  it('remote_disk: replicas/2 slaves fsynced it; an ACK from memory does not count', () => {
    const { node, slaves } = master('remote_disk', 3);
    const rd = write(node);
    expect(rd.persist.sync).toBe(false);
    node.advance(rd);
    expect(ack(node, slaves[0]!, 1, false)).toEqual([]);
    expect(ack(node, slaves[1]!, 1, true)).toEqual(['w1']);
  });

  it("quorum_disk: the master's fsync and replicas/2 slaves' fsyncs, whichever comes last", () => {
    const { node, slaves } = master('quorum_disk', 3);
    const rd = write(node);
    expect(rd.persist.sync).toBe(true);
    expect(ack(node, slaves[0]!, 1, true)).toEqual([]); // the master's own fsync is still under way
    node.advance(rd);
    expect(drain(node)).toEqual(['w1']);
  });

  it('writes to a node that does not serve fail at once with REPL_NOT_MASTER', () => {
    const node = new ReplicaNode({ id: 'a' });
    node.step({ kind: 'write', id: 'w1', payload: 'w1' });
    expect(node.ready().fail).toEqual([{ id: 'w1', code: 'REPL_NOT_MASTER' }]);
  });

  it('rejects bad settings with a sentence that names them', () => {
    expect(() => new ReplicaNode({ id: 'a', replicas: 4 })).toThrow('replicas must be odd (2N+1), got 4');
    expect(() => new ReplicaNode({ id: 'a', sync: 'disk' })).toThrow("sync: unknown mode 'disk'");
  });
});
