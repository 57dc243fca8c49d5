// Goal: the replication transport carries the core's peer messages intact between a master and its slaves,
// lets in only nodes that know the group's token, and never buffers without bound. Method: the frame decoder
// is fed bytes at every split point; the server and links are driven over real loopback sockets, with a raw
// socket playing the misbehaving peer where a well-behaved link could not.
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppendMessage, PeerMessage, ReplicatedEntry } from '../src/core/types.js';
import { ReplShellError } from '../src/shell/errors.js';
import { encodeFrame, encodePeerMessage, FrameDecoder, REPL_FRAME_BYTES_MAX } from '../src/shell/framing.js';
import {
  INVALID_SECURITY_TOKEN,
  parseTcpUri,
  ReplicationLink,
  ReplicationServer,
  type ServerOptions,
} from '../src/shell/link.js';

const TOKEN = 'group-secret';

const entry = (index: number, bytes = 8): ReplicatedEntry => ({ epoch: 2, index, payload: { body: Buffer.alloc(bytes, index % 251), dest: '/queue/a' } });

const append = (first: number, count: number, bytes = 8): AppendMessage => ({
  type: 'APPEND',
  epoch: 2,
  prevIndex: first - 1,
  prevEpoch: 2,
  entries: Array.from({ length: count }, (_, i) => entry(first + i, bytes)),
  commitIndex: first - 1,
  floor: 0,
});

const SAMPLES: PeerMessage[] = [
  { type: 'LOGIN', epoch: 2, securityToken: TOKEN },
  { type: 'SYNC', epoch: 2, last: { epoch: 1, index: 2 ** 40 }, history: [{ epoch: 1, start: 1 }], durableIndex: 7 },
  append(8, 3),
  { type: 'ACK', epoch: 2, index: 10, durable: true },
  { type: 'SNAPSHOT_CHUNK', epoch: 2, id: 1, seq: 0, chunks: 2, data: [[Buffer.from([0, 255, 1]), -1.5, null]] },
  { type: 'REJECT', epoch: 3, reason: 'x is master of epoch 3' },
];

function decodeAll(decoder: FrameDecoder, ...chunks: Buffer[]): unknown[] {
  const out: unknown[] = [];
  for (const c of chunks) {
    decoder.push(c);
    for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f.value);
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ReplShellError ? err.code : `not a ReplShellError: ${String(err)}`;
  }
  return undefined;
}

describe('framing', () => {
  const stream = Buffer.concat(SAMPLES.map((m) => encodeFrame(m)));

  it('decodes identically whatever the split point, and byte by byte', () => {
    expect(decodeAll(new FrameDecoder(), stream)).toEqual(SAMPLES);
    for (let i = 0; i <= stream.length; i++) {
      expect(decodeAll(new FrameDecoder(), stream.subarray(0, i), stream.subarray(i))).toEqual(SAMPLES);
    }
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    const decoded = decodeAll(new FrameDecoder(), ...bytes);
    expect(decoded).toEqual(SAMPLES);
    // Buffers inside payloads come back as Buffers, not plain arrays or typed-array extensions.
    expect(Buffer.isBuffer((decoded[4] as { data: unknown[][] }).data[0]![0])).toBe(true);
  });

  it('refuses an oversized frame from its length prefix alone, and stays failed', () => {
    const d = new FrameDecoder();
    d.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(codeOf(() => d.next())).toBe('REPL_FRAME_TOO_LARGE');
    expect(codeOf(() => d.next())).toBe('REPL_FRAME_TOO_LARGE');
    const small = new FrameDecoder(16);
    small.push(encodeFrame({ text: 'more than sixteen bytes of payload' }));
    expect(codeOf(() => small.next())).toBe('REPL_FRAME_TOO_LARGE');
    expect(codeOf(() => encodeFrame(Buffer.alloc(32), 16))).toBe('REPL_FRAME_TOO_LARGE');
  });

  it('refuses empty and undecodable frames', () => {
    const empty = new FrameDecoder();
    empty.push(Buffer.alloc(4));
    expect(codeOf(() => empty.next())).toBe('REPL_BAD_FRAME');
    const garbage = new FrameDecoder();
    garbage.push(Buffer.from([0, 0, 0, 2, 0xda, 0x00])); // a str16 whose length is cut off
    expect(codeOf(() => garbage.next())).toBe('REPL_BAD_FRAME');
    const trailing = new FrameDecoder();
    trailing.push(Buffer.from([0, 0, 0, 2, 0x01, 0x02]));
    expect(codeOf(() => trailing.next())).toBe('REPL_BAD_FRAME');
  });

  it('splits a large APPEND into chained APPENDs a slave applies as the whole', () => {
    const whole = append(101, 10, 1000);
    const frames = encodePeerMessage(whole, { target: 2500 });
    expect(frames.length).toBeGreaterThan(3);
    const parts = decodeAll(new FrameDecoder(), ...frames) as AppendMessage[];
    expect(parts.flatMap((p) => p.entries)).toEqual(whole.entries);
    let prev = { index: whole.prevIndex, epoch: whole.prevEpoch };
    for (const p of parts) {
      expect(p.prevIndex).toBe(prev.index);
      expect(p.prevEpoch).toBe(prev.epoch);
      expect(p.commitIndex).toBe(whole.commitIndex);
      const last = p.entries[p.entries.length - 1]!;
      prev = { index: last.index, epoch: last.epoch };
    }
    // A single entry cannot be split: past the hard limit it fails at the sender.
    expect(codeOf(() => encodePeerMessage(append(1, 1, 5000), { target: 1000, max: 4000 }))).toBe('REPL_FRAME_TOO_LARGE');
    expect(encodePeerMessage(append(1, 1, 5000), { target: 1000, max: REPL_FRAME_BYTES_MAX })).toHaveLength(1);
  });
});

describe('parseTcpUri', () => {
  it('accepts tcp://host:port and rejects anything else with REPL_BAD_URI', () => {
    expect(parseTcpUri('tcp://0.0.0.0:61619')).toEqual({ host: '0.0.0.0', port: 61619 });
    expect(parseTcpUri('tcp://broker-1.example:0')).toEqual({ host: 'broker-1.example', port: 0 });
    expect(parseTcpUri('tcp://[::1]:7')).toEqual({ host: '::1', port: 7 });
    for (const bad of ['ssl://h:1', 'tcp://h', 'tcp://h:99999', 'h:1', 'tcp://h:1/path', 'tcp://u@h:1', '']) {
      expect(codeOf(() => parseTcpUri(bad)), bad).toBe('REPL_BAD_URI');
    }
    expect(() => parseTcpUri('nio://h:1')).toThrow(/bind must be tcp:\/\/host:port \(unsupported scheme nio\)/);
  });
});

describe('links over loopback', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function server(options: Partial<ServerOptions> = {}): Promise<ReplicationServer> {
    const s = await ReplicationServer.listen({ bind: 'tcp://127.0.0.1:0', securityToken: TOKEN, epoch: () => 5, ...options });
    cleanup.push(() => s.close());
    return s;
  }

  async function dial(s: ReplicationServer, nodeId: string, securityToken = TOKEN): Promise<ReplicationLink> {
    const link = await ReplicationLink.connect({ address: s.address, peer: 'master', nodeId, securityToken, epoch: 4 });
    cleanup.push(() => link.close());
    return link;
  }

  /** A raw socket to the server, for the peer a ReplicationLink would never be. */
  async function raw(s: ReplicationServer): Promise<net.Socket> {
    const socket = net.connect({ host: '127.0.0.1', port: s.port });
    cleanup.push(() => socket.destroy());
    await once(socket, 'connect');
    return socket;
  }

  it('binds port 0 to a real port', async () => {
    const s = await server();
    expect(s.port).toBeGreaterThan(0);
    expect(s.address).toBe(`tcp://127.0.0.1:${s.port}`);
  });

  it('logs a slave in and carries messages both ways with their types, Buffers included', async () => {
    const s = await server();
    const accepted = once(s, 'link');
    const slave = await dial(s, 'b');
    const [master, login] = (await accepted) as [ReplicationLink, { nodeId: string; epoch: number }];
    expect(login).toMatchObject({ nodeId: 'b', epoch: 4 });
    expect(master.peer).toBe('b');
    expect(s.peers()).toEqual(['b']);

    const atMaster: [string, PeerMessage][] = [];
    s.on('message', (from, m) => atMaster.push([from, m]));
    const atSlave: [string, PeerMessage][] = [];
    slave.on('message', (from, m) => atSlave.push([from, m]));

    for (const m of SAMPLES) expect(slave.send(m)).toBe(true);
    for (const m of SAMPLES) expect(s.send('b', m)).toBe(true);
    await expect.poll(() => atMaster.length + atSlave.length).toBe(2 * SAMPLES.length);
    expect(atMaster).toEqual(SAMPLES.map((m) => ['b', m]));
    expect(atSlave).toEqual(SAMPLES.map((m) => ['master', m]));
    const chunk = atSlave[4]![1] as { data: unknown[][] };
    expect(Buffer.isBuffer(chunk.data[0]![0])).toBe(true);
    expect(s.send('nobody', SAMPLES[0]!)).toBe(false);
  });

  it('answers a wrong securityToken with REJECT "Invalid security_token" and closes', async () => {
    const s = await server();
    const refused = once(s, 'refused');
    const slave = await dial(s, 'b', 'wrong');
    const got: PeerMessage[] = [];
    slave.on('message', (_from, m) => got.push(m));
    const [peer, , error] = (await once(slave, 'closed')) as [string, string, ReplShellError];
    expect(got).toEqual([{ type: 'REJECT', epoch: 5, reason: INVALID_SECURITY_TOKEN }]);
    expect(got[0]).toMatchObject({ reason: 'Invalid security_token' });
    expect(peer).toBe('master');
    expect(error.code).toBe('REPL_LINK_CLOSED');
    const [, refusal] = (await refused) as [string, ReplShellError];
    expect(refusal.code).toBe('REPL_LOGIN_REJECTED');
    expect(s.peers()).toEqual([]);
  });

  it('refuses a first frame that is not a LOGIN, and a silent connection', async () => {
    const s = await server({ loginTimeoutMs: 50 });
    const socket = await raw(s);
    const refusals: ReplShellError[] = [];
    s.on('refused', (_remote, e) => refusals.push(e));
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.write(encodeFrame({ type: 'SYNC', epoch: 1 }));
    await once(socket, 'close');
    expect(decodeAll(new FrameDecoder(), ...received)).toEqual([{ type: 'REJECT', epoch: 5, reason: 'expected LOGIN first' }]);
    const silent = await raw(s);
    await once(silent, 'close');
    await expect.poll(() => refusals.map((e) => e.code)).toEqual(['REPL_LOGIN_REJECTED', 'REPL_LOGIN_REJECTED']);
    expect(refusals[1]!.message).toMatch(/no LOGIN within 50 ms/);
  });

  it('closes a link whose peer announces an oversized frame', async () => {
    const s = await server();
    const accepted = once(s, 'link');
    const socket = await raw(s);
    socket.write(encodeFrame({ type: 'LOGIN', nodeId: 'b', securityToken: TOKEN }));
    await accepted;
    const closed = once(s, 'closed');
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    const [peer, reason, error] = (await closed) as [string, string, ReplShellError];
    expect(peer).toBe('b');
    expect(error.code).toBe('REPL_FRAME_TOO_LARGE');
    expect(reason).toMatch(/4294967280 bytes/);
    await once(socket, 'close');
  });

  it('closes a link whose peer sends something that is not a peer message', async () => {
    const s = await server();
    const socket = await raw(s);
    socket.write(encodeFrame({ type: 'LOGIN', nodeId: 'b', securityToken: TOKEN }));
    socket.write(encodeFrame({ type: 'HELLO', epoch: 1 }));
    const [, , error] = (await once(s, 'closed')) as [string, string, ReplShellError];
    expect(error.code).toBe('REPL_BAD_FRAME');
  });

  it('closes and reports a link whose peer stops reading once its outbound bound is passed', async () => {
    const s = await server({ outboundBytesMax: 256 * 1024 });
    const accepted = once(s, 'link');
    const socket = await raw(s);
    socket.pause(); // the slow slave: reads nothing, so the kernel buffers fill and then the link's
    socket.write(encodeFrame({ type: 'LOGIN', nodeId: 'b', securityToken: TOKEN }));
    const [link] = (await accepted) as [ReplicationLink];
    const closed = once(s, 'closed');
    let sent = 0;
    // 64 KiB a send, all in one turn: the link corks its socket for the turn (frames leave together at
    // its end), so its own queue grows from the first send until the next would pass 256 KiB.
    while (link.send(append(sent * 4 + 1, 4, 16 * 1024))) {
      sent++;
      expect(sent).toBeLessThan(4096);
      expect(link.outboundBytes).toBeLessThanOrEqual(256 * 1024);
    }
    expect(sent).toBe(3);
    expect(link.isClosed).toBe(true);
    const [peer, reason, error] = (await closed) as [string, string, ReplShellError];
    expect(peer).toBe('b');
    expect(error.code).toBe('REPL_LINK_OVERFLOW');
    expect(reason).toMatch(/must resync/);
    expect(link.send(SAMPLES[3]!)).toBe(false);
    expect(s.peers()).toEqual([]);
  });

  it('streams bulk messages (a snapshot) far past the outbound bound at the pace the peer reads them', async () => {
    const s = await server({ outboundBytesMax: 4 * 1024 * 1024 });
    const accepted = once(s, 'link');
    const slave = await dial(s, 'b');
    const [link] = (await accepted) as [ReplicationLink];
    const chunk = (seq: number): PeerMessage => ({ type: 'SNAPSHOT_CHUNK', epoch: 2, id: 1, seq, chunks: 40, data: [[Buffer.alloc(1024 * 1024, seq), Buffer.alloc(1)]] });
    // 40 MiB at once, ten times the link's bound: queued, not refused.
    for (let seq = 0; seq < 40; seq++) expect(link.sendBulk(chunk(seq))).toBe(true);
    expect(link.sendBulk({ type: 'SNAPSHOT_END', epoch: 2, id: 1 })).toBe(true);
    const got: number[] = [];
    const ended = new Promise<void>((resolve) => slave.on('message', (_from, m) => {
      if (m.type === 'SNAPSHOT_CHUNK') got.push(m.seq);
      if (m.type === 'SNAPSHOT_END') resolve();
    }));
    await ended;
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(link.isClosed).toBe(false);
  });

  it('replaces an older link of the same node with its newer login', async () => {
    const s = await server();
    const first = await dial(s, 'b');
    await once(s, 'link');
    const firstClosed = once(first, 'closed');
    await dial(s, 'b');
    await once(s, 'link');
    await firstClosed;
    expect(s.peers()).toEqual(['b']);
  });

  it('ends every link when the server closes', async () => {
    const s = await server();
    const links = [await dial(s, 'b'), await dial(s, 'c')];
    await expect.poll(() => s.peers().length).toBe(2);
    const masterSide: string[] = [];
    s.on('closed', (peer) => masterSide.push(peer!));
    const slaveSide = links.map((l) => once(l, 'closed'));
    await s.close();
    await Promise.all(slaveSide);
    expect(masterSide.sort()).toEqual(['b', 'c']);
    expect(links.every((l) => l.isClosed)).toBe(true);
  });

  it('reports a failed dial with REPL_CONNECT_FAILED and leaves redialing to the caller', async () => {
    const s = await server();
    const address = s.address;
    await s.close();
    const err = await ReplicationLink.connect({ address, peer: 'master', nodeId: 'b', securityToken: TOKEN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplShellError);
    expect((err as ReplShellError).code).toBe('REPL_CONNECT_FAILED');
    await expect(ReplicationLink.connect({ address: 'udp://h:1', peer: 'm', nodeId: 'b', securityToken: '' })).rejects.toMatchObject({
      code: 'REPL_BAD_URI',
    });
  });
});
