// A minimal STOMP 1.2 client over node:net, written for the benchmark only.
//
// It is deliberately independent of packages/stomp: the benchmark must measure mini-amq with a client that
// does not share its codec (a shared bug would cancel out), and it must speak to ActiveMQ and RabbitMQ the
// same way it speaks to mini-amq. It covers what the scenarios need: CONNECT/CONNECTED, SEND (with
// receipts), SUBSCRIBE (ack modes, prefetch headers for both anchors), MESSAGE, ACK, RECEIPT, ERROR,
// DISCONNECT, with a streaming parser that honours content-length and NUL-terminated bodies.
//
// Speed matters here: one client process has to parse a few hundred thousand frames a second in the
// topic fan-out, so headers are decoded once per frame as one latin1 string and looked up by search
// instead of being split into an object.

import net from 'node:net';

const LF = 10;
const CR = 13;
const NUL = 0;
const LFLF = Buffer.from('\n\n');
const LFCRLF = Buffer.from('\n\r\n');

/** STOMP 1.2 header escaping (spec "Value Encoding"); CONNECT/CONNECTED are exempt per the spec. */
function escapeValue(v) {
  const s = String(v);
  if (!/[\\\n\r:]/.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/:/g, '\\c');
}

function unescapeValue(s) {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'c' ? ':' : c));
}

/**
 * One received frame. `head` is the command line plus header lines, decoded as latin1 so that character
 * offsets equal byte offsets; header values are re-decoded as UTF-8 only when they hold non-ASCII bytes.
 */
export class Frame {
  constructor(command, head, body) {
    this.command = command;
    this.head = head;
    this.body = body;
  }

  /** The first occurrence of a header wins (STOMP 1.2 "Repeated Header Entries"). */
  header(name) {
    const key = '\n' + name + ':';
    const i = this.head.indexOf(key);
    if (i < 0) return undefined;
    const start = i + key.length;
    let end = this.head.indexOf('\n', start);
    if (end < 0) end = this.head.length;
    if (end > start && this.head.charCodeAt(end - 1) === CR) end--;
    let v = this.head.slice(start, end);
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(v)) v = Buffer.from(v, 'latin1').toString('utf8');
    return this.command === 'CONNECTED' ? v : unescapeValue(v);
  }

  /** All headers as an object, for diagnostics (ERROR frames); not used on the hot path. */
  headers() {
    const out = {};
    const lines = this.head.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i].replace(/\r$/, '');
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const k = line.slice(0, c);
      if (!(k in out)) out[k] = this.header(k);
    }
    return out;
  }
}

/**
 * Streaming frame parser: feed it chunks, it calls onFrame for each complete frame. Bytes of an
 * incomplete frame are kept until the next chunk. Heart-beat EOLs between frames are skipped.
 */
export class FrameParser {
  constructor(onFrame, maxFrameBytes = 64 * 1024 * 1024) {
    this.onFrame = onFrame;
    this.buf = null;
    this.maxFrameBytes = maxFrameBytes;
  }

  push(chunk) {
    let buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    const len = buf.length;
    for (;;) {
      while (pos < len && (buf[pos] === LF || buf[pos] === CR)) pos++;
      if (pos >= len) { this.buf = null; return; }
      // The first blank line ends the headers. Frames are contiguous, so this search stops within the
      // current frame except for the last, incomplete one. CRLF line endings are legal in 1.2: if the
      // CRLF form of a blank line comes first, that is the end.
      // Only the header text just found is searched for the CRLF form, never the rest of the buffer, so
      // the cost stays linear in the bytes received.
      let hEnd = buf.indexOf(LFLF, pos);
      let sepLen = 2;
      let head;
      if (hEnd >= 0) {
        head = buf.latin1Slice(pos, hEnd);
        const c = head.indexOf('\n\r\n');
        if (c >= 0) { hEnd = pos + c; sepLen = 3; head = head.slice(0, c); }
      } else {
        hEnd = buf.indexOf(LFCRLF, pos);
        if (hEnd < 0) break;
        sepLen = 3;
        head = buf.latin1Slice(pos, hEnd);
      }
      let cmdEnd = head.indexOf('\n');
      if (cmdEnd < 0) cmdEnd = head.length;
      let command = head.slice(0, cmdEnd);
      if (command.charCodeAt(command.length - 1) === CR) command = command.slice(0, -1);
      const frame = new Frame(command, head, null);
      const bodyStart = hEnd + sepLen;
      const cl = frame.header('content-length');
      let bodyEnd;
      if (cl !== undefined && cl !== '') {
        const n = Number(cl);
        if (!Number.isInteger(n) || n < 0) throw new Error(`bad content-length ${JSON.stringify(cl)}`);
        if (bodyStart + n >= len) break; // body or its NUL not here yet
        if (buf[bodyStart + n] !== NUL) throw new Error(`frame ${command}: no NUL after content-length body`);
        bodyEnd = bodyStart + n;
      } else {
        bodyEnd = buf.indexOf(NUL, bodyStart);
        if (bodyEnd < 0) break;
      }
      frame.body = buf.subarray(bodyStart, bodyEnd);
      pos = bodyEnd + 1;
      this.onFrame(frame);
    }
    if (len - pos > this.maxFrameBytes) throw new Error(`incomplete frame larger than ${this.maxFrameBytes} bytes`);
    this.buf = pos === 0 ? buf : pos >= len ? null : buf.subarray(pos);
    // Release the large chunk a small remainder would otherwise pin.
    if (this.buf !== null && this.buf.length < 4096 && pos > 0) this.buf = Buffer.from(this.buf);
  }
}

/** Builds one frame as a single Buffer: fewer writes per message than head/body/NUL separately. */
export function encodeFrame(command, headers, body) {
  const b = body === undefined || body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  let head = command + '\n';
  const raw = command === 'CONNECT' || command === 'STOMP';
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || v === null) continue;
    head += k + ':' + (raw ? String(v) : escapeValue(v)) + '\n';
  }
  if (b !== null) head += 'content-length:' + b.length + '\n';
  head += '\n';
  const hLen = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(hLen + (b ? b.length : 0) + 1);
  out.write(head, 0, 'utf8');
  if (b) b.copy(out, hLen);
  out[out.length - 1] = 0;
  return out;
}

/**
 * Parses "host:port[,login,passcode[,vhost]]". RabbitMQ reads the `host` header as its virtual host,
 * so it defaults to "/" (ActiveMQ and mini-amq ignore it).
 */
export function parseTarget(spec) {
  const [hp, login, passcode, vhost] = String(spec).split(',');
  const m = /^(.*):(\d+)$/.exec(hp);
  if (!m) throw new Error(`target must be host:port[,login,passcode[,vhost]], got ${JSON.stringify(spec)}`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]), login, passcode, vhost: vhost || '/' };
}

let connSeq = 0;

/** One STOMP connection. All waits are bounded by the caller's deadline (see bench scenarios). */
export class StompConnection {
  constructor(socket, target) {
    this.socket = socket;
    this.target = target;
    this.id = ++connSeq;
    this.version = '1.2';
    this.subs = new Map(); // subscription id -> handler(frame)
    this.receipts = new Map(); // receipt id -> {resolve, reject}
    this.receiptSeq = 0;
    this.subSeq = 0;
    this.closed = false;
    this.error = null;
    this.drainWaiters = [];
    this.onError = null; // optional observer for ERROR frames / socket failure
    this.parser = new FrameParser((f) => this._onFrame(f));
    this._connected = null;
    socket.on('data', (chunk) => {
      // Corking while a chunk is parsed lets every ACK that its frames cause go out in one write.
      socket.cork();
      try {
        this.parser.push(chunk);
      } catch (e) {
        this._fail(e);
      } finally {
        socket.uncork();
      }
    });
    socket.on('drain', () => {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const r of w) r();
    });
    socket.on('error', (e) => this._fail(e));
    socket.on('close', () => this._fail(new Error(`connection ${this.id} closed`), true));
  }

  _fail(err, isClose = false) {
    if (!this.closed) {
      this.closed = true;
      if (!isClose) this.socket.destroy();
    }
    if (this.error === null && !this._disconnecting) this.error = err;
    const e = this.error ?? err;
    if (this._connected) this._connected.reject(e);
    for (const r of this.receipts.values()) r.reject(e);
    this.receipts.clear();
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
    if (this.onError && !this._disconnecting) this.onError(e);
  }

  _onFrame(f) {
    switch (f.command) {
      case 'MESSAGE': {
        const h = this.subs.get(f.header('subscription'));
        if (h) h(f);
        return;
      }
      case 'RECEIPT': {
        const id = f.header('receipt-id');
        const r = this.receipts.get(id);
        if (r) { this.receipts.delete(id); r.resolve(f); }
        return;
      }
      case 'CONNECTED':
        this.version = f.header('version') || '1.0';
        this.server = f.header('server');
        if (this._connected) this._connected.resolve(f);
        return;
      case 'ERROR': {
        const msg = f.header('message') || '';
        const err = new Error(`ERROR frame from broker: ${msg} ${f.body ? f.body.toString('utf8').slice(0, 300) : ''}`.trim());
        err.frame = f;
        this._fail(err);
        return;
      }
      default:
        return;
    }
  }

  /** Raw write; returns false when the socket's buffer is over its mark (caller should await drain()). */
  write(buf) {
    if (this.closed) throw this.error ?? new Error('connection closed');
    return this.socket.write(buf);
  }

  /** Resolves when the socket has flushed (or failed): producers wait here instead of buffering without end. */
  drain() {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  send(destination, body, headers = {}) {
    return this.write(encodeFrame('SEND', { destination, ...headers }, body));
  }

  /** SEND with a receipt header; resolves on the matching RECEIPT. */
  sendWithReceipt(destination, body, headers = {}) {
    const id = 'r' + ++this.receiptSeq;
    const p = this.expectReceipt(id);
    this.write(encodeFrame('SEND', { destination, receipt: id, ...headers }, body));
    return p;
  }

  expectReceipt(id) {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.error ?? new Error('connection closed'));
      this.receipts.set(id, { resolve, reject });
    });
  }

  /**
   * SUBSCRIBE. `prefetch` is sent as both ActiveMQ's `activemq.prefetchSize` and RabbitMQ's
   * `prefetch-count` so each anchor limits unacknowledged messages the same way. With `receipt: true`
   * it resolves once the broker confirmed the subscription (needed before publishing to a topic).
   */
  async subscribe(destination, onMessage, { ack = 'auto', prefetch, receipt = false, headers = {} } = {}) {
    const id = 's' + ++this.subSeq;
    this.subs.set(id, onMessage);
    const h = { id, destination, ack, ...headers };
    if (prefetch !== undefined) {
      h['activemq.prefetchSize'] = prefetch;
      h['prefetch-count'] = prefetch;
    }
    let p = null;
    if (receipt) {
      h.receipt = 'sub-' + id;
      p = this.expectReceipt(h.receipt);
    }
    this.write(encodeFrame('SUBSCRIBE', h));
    if (p) await p;
    return id;
  }

  unsubscribe(id) {
    this.subs.delete(id);
    if (!this.closed) this.write(encodeFrame('UNSUBSCRIBE', { id }));
  }

  /** ACK for client / client-individual: 1.2 names the `ack` header's value, 1.0/1.1 the message-id. */
  ack(frame) {
    const ackId = frame.header('ack');
    if (this.version === '1.2' && ackId !== undefined) return this.write(encodeFrame('ACK', { id: ackId }));
    return this.write(encodeFrame('ACK', {
      'message-id': frame.header('message-id'),
      subscription: frame.header('subscription'),
    }));
  }

  /** DISCONNECT with a receipt (so that prior frames were processed), then close; bounded by timeoutMs. */
  async close(timeoutMs = 5000) {
    if (this.closed) return;
    this._disconnecting = true;
    try {
      const p = this.expectReceipt('bye');
      this.write(encodeFrame('DISCONNECT', { receipt: 'bye' }));
      await withTimeout(p, timeoutMs, 'DISCONNECT receipt').catch(() => {});
    } catch { /* already gone */ }
    this.destroy();
  }

  destroy() {
    this._disconnecting = true;
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
  }
}

export function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

/** Opens a TCP connection with Nagle off and completes the STOMP handshake within timeoutMs. */
export function connect(target, { timeoutMs = 10000, clientId } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    socket.setNoDelay(true);
    const conn = new StompConnection(socket, target);
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      conn.destroy();
      reject(new Error(`connect to ${target.host}:${target.port}: no CONNECTED within ${timeoutMs} ms`));
    }, timeoutMs);
    conn._connected = {
      resolve: () => { if (!done) { done = true; clearTimeout(timer); conn._connected = null; resolve(conn); } },
      reject: (e) => { if (!done) { done = true; clearTimeout(timer); conn._connected = null; reject(e); } },
    };
    socket.once('connect', () => {
      const h = {
        'accept-version': '1.2,1.1,1.0',
        host: target.vhost ?? '/',
        'heart-beat': '0,0',
      };
      if (target.login !== undefined) h.login = target.login;
      if (target.passcode !== undefined) h.passcode = target.passcode;
      if (clientId) h['client-id'] = clientId;
      socket.write(encodeFrame('CONNECT', h));
    });
  });
}

