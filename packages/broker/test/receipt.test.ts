// Goal: every frame that asks for a receipt gets a RECEIPT with its receipt-id [STOMP 1.2: RECEIPT,
// Header receipt], receipts leave in frame order even when persistence makes earlier frames slower,
// and an ERROR names the receipt of the frame that caused it; method: raw sockets writing pipelined
// frames in one write and reading the exact sequence of frames that comes back.
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '@mini-amq/stomp';
import { barrier, frame, header, headersOf, messageOf, startTestBroker, subscribe, tempDir } from './test-helpers.js';

const receiptIdOf = (f: Frame): string | undefined => header(f, 'receipt-id');

describe('receipts', () => {
  it('answers SEND, SUBSCRIBE, ACK, NACK, UNSUBSCRIBE, BEGIN, COMMIT, ABORT and DISCONNECT with a matching RECEIPT', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    const roundTrip = async (f: Frame): Promise<Frame> => {
      raw.write(f);
      return raw.next((x) => x.command !== 'MESSAGE');
    };
    const expectReceipt = async (command: string, headers: Record<string, string>, body = ''): Promise<void> => {
      const id = `r-${command}`;
      const answer = await roundTrip(frame(command, { ...headers, receipt: id }, body));
      expect(answer.command, `${command} ${messageOf(answer)}`).toBe('RECEIPT');
      expect(headersOf(answer)).toEqual({ 'receipt-id': id });
      expect(answer.body.length).toBe(0);
    };
    await expectReceipt('SUBSCRIBE', { destination: '/queue/rcpt', id: 's', ack: 'client-individual' });
    await expectReceipt('SEND', { destination: '/queue/rcpt' }, 'one');
    const m1 = await raw.next((x) => x.command === 'MESSAGE');
    await expectReceipt('NACK', { id: header(m1, 'ack')! });
    const m2 = await raw.next((x) => x.command === 'MESSAGE');
    expect(header(m2, 'redelivered')).toBe('true');
    await expectReceipt('BEGIN', { transaction: 't1' });
    await expectReceipt('ACK', { id: header(m2, 'ack')!, transaction: 't1' });
    await expectReceipt('COMMIT', { transaction: 't1' });
    await expectReceipt('BEGIN', { transaction: 't2' });
    await expectReceipt('ABORT', { transaction: 't2' });
    await expectReceipt('UNSUBSCRIBE', { id: 's' });
    await expectReceipt('DISCONNECT', {});
    await raw.waitClosed();
    expect(b.stats('/queue/rcpt')).toMatchObject({ pending: 0, inflight: 0, dequeued: 1 });
  });

  it('sends receipts in frame order across persistent (slow) and non-persistent (fast) frames', async () => {
    const b = await startTestBroker({ dataDir: await tempDir() });
    const raw = await b.raw();
    await raw.connect();
    const frames: Buffer[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const id = `r${i}`;
      ids.push(id);
      const kind = i % 5;
      const f = kind === 0 ? frame('SEND', { destination: '/queue/order', persistent: 'true', receipt: id }, `p${i}`)
        : kind === 1 ? frame('SEND', { destination: '/queue/order', receipt: id }, `n${i}`)
        : kind === 2 ? frame('BEGIN', { transaction: `t${i}`, receipt: id })
        : kind === 3 ? frame('COMMIT', { transaction: `t${i - 1}`, receipt: id })
        : frame('SEND', { destination: '/topic/order', receipt: id }, 't');
      frames.push(encodeFrame(f, '1.2'));
    }
    raw.write(Buffer.concat(frames));
    const got: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const f = await raw.next();
      expect(f.command).toBe('RECEIPT');
      got.push(receiptIdOf(f)!);
    }
    expect(got).toEqual(ids);
  });

  it('sends the DISCONNECT receipt only after earlier persistent SENDs are done, then closes', async () => {
    const b = await startTestBroker({ dataDir: await tempDir() });
    const raw = await b.raw();
    await raw.connect();
    const burst = [];
    for (let i = 0; i < 50; i++) burst.push(encodeFrame(frame('SEND', { destination: '/queue/bye', persistent: 'true' }, `m${i}`), '1.2'));
    burst.push(encodeFrame(frame('DISCONNECT', { receipt: 'bye' }), '1.2'));
    raw.write(Buffer.concat(burst));
    const f = await raw.next();
    expect(headersOf(f)).toEqual({ 'receipt-id': 'bye' });
    await raw.waitClosed();
    expect(b.stats('/queue/bye').pending).toBe(50);
  });

  it('sends the RECEIPT of a SUBSCRIBE before any MESSAGE of that subscription', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    for (let i = 0; i < 5; i++) await producer.sendWithReceipt('/queue/backlog.rcpt', `m${i}`);
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('SUBSCRIBE', { destination: '/queue/backlog.rcpt', id: 's', receipt: 'sub' }));
    const first = await raw.next();
    expect(first.command).toBe('RECEIPT');
    expect(receiptIdOf(first)).toBe('sub');
    expect((await raw.next()).command).toBe('MESSAGE');
  });

  it('puts the receipt-id of the offending frame on the ERROR; earlier frames got theirs, later ones none', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write(Buffer.concat([
      encodeFrame(frame('SEND', { destination: '/queue/rc.err', receipt: 'ok-1' }, 'kept'), '1.2'),
      encodeFrame(frame('SEND', { destination: '/nowhere/x', receipt: 'bad-2' }, 'x'), '1.2'),
      encodeFrame(frame('SEND', { destination: '/queue/rc.err', receipt: 'late-3' }, 'dropped'), '1.2'),
    ]));
    expect(receiptIdOf(await raw.next())).toBe('ok-1');
    const error = await raw.error();
    expect(error.command).toBe('ERROR');
    expect(header(error, 'receipt-id')).toBe('bad-2');
    expect(raw.frames.some((f) => receiptIdOf(f) === 'late-3')).toBe(false);
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/rc.err');
    await inbox.count(1);
    await barrier(c);
    expect(inbox.texts).toEqual(['kept']);
  });

  it('echoes 1.2-escaped receipt values exactly', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write('SEND\ndestination:/queue/rc.esc\nreceipt:a\\cb\\nc\\\\d\n\nx\0');
    expect(receiptIdOf(await raw.next())).toBe('a:b\nc\\d');
  });
});
