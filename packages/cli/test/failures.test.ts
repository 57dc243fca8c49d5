/**
 * Goal: a start that fails for a reason the user can fix prints one line saying what to do, wherever the
 * reason sits in the cause chain; anything else is left alone so its stack shows. Method: synthetic errors
 * shaped like Node's, classic-level's and our packages'.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { explainStartFailure } from '../src/failures.js';

const broker = resolveConfig(undefined, { dataDir: '/var/amq' }, { cwd: '/' }).broker;
const explain = (error: unknown) => explainStartFailure(error, broker);
function systemError(code: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(`${String(fields.syscall)} ${code}`), { code, ...fields });
}
const wrapped = (cause: unknown, code = 'BROKER_STORE_FAILED') => Object.assign(new Error('wrapper', { cause }), { code });

describe('explainStartFailure', () => {
  it('a taken STOMP port names the port and --port', () => {
    const error = systemError('EADDRINUSE', { syscall: 'listen', port: 61613, address: '127.0.0.1' });
    expect(explain(error)?.message).toBe('port 61613 is already in use: stop the other broker or pass --port');
    expect(explain(wrapped(error, 'BROKER_PORT_IN_USE'))?.message).toBe('port 61613 is already in use: stop the other broker or pass --port');
  });

  it('a taken WebSocket port points to --ws-port', () => {
    const error = systemError('EADDRINUSE', { syscall: 'listen', port: 61614, address: '127.0.0.1' });
    expect(explain(error)?.message).toBe('port 61614 is already in use: stop the other broker or pass --ws-port');
  });

  it("the broker's own port error works without a cause", () => {
    const error = Object.assign(new Error('STOMP port 61613 is already in use'), { code: 'BROKER_PORT_IN_USE' });
    expect(explain(error)?.message).toBe('port 61613 is already in use: stop the other broker or pass --port');
  });

  it('other listen failures say what to change', () => {
    expect(explain(systemError('EACCES', { syscall: 'listen', port: 80 }))?.message).toMatch(/^no permission to listen on port 80 .*pass --port$/);
    expect(explain(systemError('EADDRNOTAVAIL', { syscall: 'listen', port: 1, address: '10.9.9.9' }))?.message).toMatch(/^cannot listen on 10\.9\.9\.9: .*--host$/);
    expect(explain(systemError('ENOTFOUND', { syscall: 'getaddrinfo', hostname: 'nohost' }))?.message).toMatch(/^cannot resolve host "nohost"/);
  });

  it('a locked store, as classic-level or the store package reports it, names the data directory', () => {
    const expected = 'data directory /var/amq is in use by another broker (its store is locked): stop that broker or pass --data with another directory';
    const level = Object.assign(new Error('Database failed to open', { cause: Object.assign(new Error('IO error: lock'), { code: 'LEVEL_LOCKED' }) }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
    expect(explain(level)?.message).toBe(expected);
    expect(explain(wrapped(level, 'STORE_LOCKED'))?.message).toBe(expected);
    expect(explain(level)?.code).toBe('CLI_DATA_DIR_LOCKED');
  });

  it('a data directory the process cannot use names the path', () => {
    const error = systemError('EACCES', { syscall: 'mkdir', path: '/root/x' });
    expect(explain(error)?.message).toMatch(/^cannot use \/root\/x for the data directory: .*pass --data/);
  });

  it('an error with a package code keeps its messages, innermost included', () => {
    const error = wrapped(new Error('checksum mismatch at index 7'), 'STORE_CORRUPTION');
    expect(explain(error)?.message).toBe('cannot start: wrapper: checksum mismatch at index 7 (STORE_CORRUPTION)');
  });

  it('anything else is not explained away', () => {
    expect(explain(new TypeError('x is undefined'))).toBeNull();
    expect(explain('a string')).toBeNull();
  });

  it('a cycle of causes ends', () => {
    const a: { cause?: unknown; message: string } = { message: 'a' };
    a.cause = a;
    expect(explain(a)).toBeNull();
  });
});
