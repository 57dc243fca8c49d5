/**
 * BrokerSession: one client command's connection. Always a FailoverClient (it takes a plain tcp:// or ws://
 * URI too, as a pool of one), so a `failover:(…)` URL behaves as ActiveMQ's tools do: reconnect, re-subscribe
 * and re-send what was not confirmed. It turns connect failures into one-line CliErrors and offers `lost`,
 * a promise that fails when the connection is gone for good, to race against whatever the command awaits.
 */
import { FailoverClient } from '@mini-amq/stomp';
import type { ConnectionArgs } from './client-args.js';
import { explainConnectFailure, explainRunFailure } from './client-failures.js';
import type { CommandIo } from './command-io.js';
import { CliError } from './errors.js';

/** The line FailoverClient logs on its first connection; only reconnects and failures are worth showing. */
const FIRST_CONNECT_LINE = /^Successfully connected to /;

/** Resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export class BrokerSession {
  /** Rejects with the explained failure once the client closes without `end()`; never resolves. */
  readonly lost: Promise<never>;
  private ending = false;

  private constructor(readonly client: FailoverClient, readonly url: string) {
    this.lost = client.closed.then(() => {
      if (this.ending) return new Promise<never>(() => {});
      const error = client.lastError;
      throw explainRunFailure(error, url) ?? error ?? new CliError('CLI_CONNECTION_LOST', `connection to ${url} closed`);
    });
    this.lost.catch(() => {}); // a command that never races `lost` must not crash on an unhandled rejection
  }

  /**
   * Connects. A failover URL logs its failed attempts and reconnects on stderr, since it may retry for long
   * (by default forever, as ActiveMQ's failover transport does) and silence would look like a hang.
   */
  static async open(args: ConnectionArgs, io: CommandIo, options: { clientId?: string } = {}): Promise<BrokerSession> {
    const failover = /^failover:/i.test(args.url.trim());
    const log = (line: string) => {
      // After an interrupt the attempts the client cannot be stopped from making are no longer news.
      if (!FIRST_CONNECT_LINE.test(line) && !io.signal.aborted) io.err.write(`mini-amq: ${line}\n`);
    };
    const connecting = FailoverClient.connect(args.url, {
      login: args.login, passcode: args.passcode, clientId: options.clientId, log: failover ? log : undefined,
    });
    let client: FailoverClient | undefined;
    try {
      client = await Promise.race([connecting, aborted(io.signal).then(() => undefined)]);
    } catch (error) {
      throw explainConnectFailure(error, args.url) ?? error;
    }
    if (client === undefined) {
      // FailoverClient.connect cannot be cancelled (it takes no AbortSignal): close the client if it still
      // arrives. Until then its retry timer keeps the process alive; the binary exits after LINGER_MS.
      connecting.then((late) => late.close(), () => {});
      throw new CliError('CLI_INTERRUPTED', `interrupted while connecting to ${args.url}`);
    }
    return new BrokerSession(client, args.url);
  }

  /** Resolves with `work`, or rejects with the reason the connection was lost first. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }

  /** DISCONNECT (the broker confirms what it received before it) and close. */
  async end(): Promise<void> {
    this.ending = true;
    await this.client.disconnect();
  }

  /** Closes at once, without DISCONNECT: after a failure, when waiting for receipts makes no sense. */
  close(): void {
    this.ending = true;
    this.client.close();
  }
}
