// ReplicaDisk on real LevelDB stores (a member's state and its replication log): what a member restarts
// from after each kind of write, including the debris a crash can leave (raw entries already applied, raw
// entries of the generation an install replaced), and that a snapshot carries the state with its position.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { LevelStore, type LogEntry } from '@mini-amq/store';
import { packPayload, ReplicaDisk, REPLICATION_LOG_DIRECTORY } from '../src/shell/replica-disk.js';
import type { ReplicatedEntry } from '../src/core/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function enqueue(n: number): LogEntry {
  return {
    kind: 'enqueue', queue: 'q',
    message: { messageId: `m-${n}`, destination: '/queue/q', headers: [], body: Buffer.from(`body ${n}`), priority: 4, expires: 0, timestamp: 1 },
  };
}

const entry = (epoch: number, index: number): ReplicatedEntry => ({ epoch, index, payload: packPayload([enqueue(index)]) });

async function open(dir: string): Promise<{ disk: ReplicaDisk; state: LevelStore; log: LevelStore; recovered: Awaited<ReturnType<LevelStore['open']>> }> {
  const state = new LevelStore({ directory: dir, sync: false, logTailEntriesMax: 0 });
  const recovered = await state.open();
  const log = new LevelStore({ directory: join(dir, REPLICATION_LOG_DIRECTORY), sync: false, logTailEntriesMax: 0 });
  await log.open();
  return { disk: new ReplicaDisk(state, log, false), state, log, recovered };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mini-amq-replica-disk-'));
  dirs.push(d);
  return d;
}

describe('ReplicaDisk', () => {
  it('restarts from the applied position and the raw entries after it, with its hard state', async () => {
    const dir = tempDir();
    let { disk, recovered } = await open(dir);
    await disk.restore(recovered, false);
    await disk.persist([
      { kind: 'hard-state', state: { epoch: 2, promised: 1, recovering: false } },
      { kind: 'append', entries: [entry(1, 1), entry(1, 2), entry(2, 3)] },
    ], true);
    expect(await disk.applyThrough(2)).toBe(2);
    await disk.close();

    ({ disk, recovered } = await open(dir));
    const restored = await disk.restore(recovered, false);
    expect(restored.node.hard).toEqual({ epoch: 2, promised: 1, recovering: false });
    expect(restored.node.log.base).toEqual({ epoch: 1, index: 2 });
    expect(restored.node.log.baseHistory).toEqual([{ epoch: 1, start: 1 }]);
    expect(restored.node.log.entries.map((e) => [e.epoch, e.index])).toEqual([[2, 3]]);
    expect(recovered.queues.get('q')).toBe(2);
    // Applying the rest from the restored raw entry works like any other.
    expect(await disk.applyThrough(3)).toBe(3);
    await disk.close();
  });

  it('drops truncated raw entries, and after an install only the new generation counts', async () => {
    const dir = tempDir();
    let { disk, recovered, log } = await open(dir);
    await disk.restore(recovered, false);
    await disk.persist([{ kind: 'append', entries: [entry(1, 1), entry(1, 2), entry(1, 3)] }], false);
    await disk.persist([{ kind: 'truncate', after: 1 }], false);
    expect(disk.lastIndex).toBe(1);

    // A master's snapshot: its state through (3,7) with seven messages.
    const masterDir = tempDir();
    const master = await open(masterDir);
    await master.disk.restore(master.recovered, false);
    await master.disk.persist([{ kind: 'append', entries: [1, 2, 3, 4, 5, 6, 7].map((i) => entry(i < 5 ? 1 : 3, i)) }], false);
    await master.disk.applyThrough(7);
    const snap = await master.disk.readSnapshot();
    expect(snap.through).toEqual({ epoch: 3, index: 7 });
    await master.disk.close();

    const oldRaw = await log.readAux(Buffer.from('e'));
    expect(oldRaw).toHaveLength(1);
    await disk.persist([{ kind: 'install', snapshot: { through: snap.through, history: [{ epoch: 1, start: 1 }, { epoch: 3, start: 5 }], chunks: snap.chunks } }], true);
    // A crash between the install and the deletion of the old generation's raw entries leaves them: put
    // one back by hand, at an index and epoch right after the new applied position, where it would fit
    // but for its generation.
    const debrisKey = Buffer.from(oldRaw[0]![0]);
    debrisKey.writeUInt32BE(0, 5);
    debrisKey.writeUInt32BE(8, 9);
    const debris = pack({ epoch: 3, payload: packPayload([enqueue(8)]) });
    await log.append([], { aux: [{ type: 'put', key: debrisKey, value: debris }] }).durable;
    await disk.close();

    ({ disk, recovered } = await open(dir));
    const restored = await disk.restore(recovered, false);
    expect(restored.node.log.base).toEqual({ epoch: 3, index: 7 });
    expect(restored.node.log.entries).toEqual([]);
    expect(recovered.queues.get('q')).toBe(7);
    expect(recovered.lastIndex).toBe(7);
    await disk.close();
  });
});
