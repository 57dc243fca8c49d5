/**
 * What the client commands (produce, consume, browse, status) share: their one defaults object, the
 * connection flags (`--url`, `--user`, `--password`) and how those are checked. A broker URI that cannot be
 * parsed is a bad command line (exit 2), found before any socket is opened.
 */
import { parseFailoverUri } from '@mini-amq/stomp';
import { CliError } from './errors.js';
import { checked, given, usage, type FlagSpec, type FlagValues } from './flag-table.js';
import { describeValue, KiB, type Setting } from './values.js';

/** The client commands' defaults, stated once for the code, --help and README. */
export const CLIENT_DEFAULTS = Object.freeze({
  /** The broker `mini-amq start` runs by default. */
  url: 'tcp://127.0.0.1:61613',
  /** ActiveMQ's producer and consumer messageCount default. */
  count: 1000,
  /** Body size when neither --message nor --file gives a body. */
  messageSizeBytes: KiB,
  /** Unconfirmed SENDs allowed in flight with --receipts or --persistent: enough to keep a link busy. */
  receiptWindow: 100,
  /** consume stops after this many seconds without a message. */
  consumeTimeoutS: 10,
  /** `client`: a message counts as consumed only once acknowledged, so stopping at --count takes no more. */
  consumeAck: 'client' as 'auto' | 'client',
  /** The most unacknowledged messages the broker pushes to one consumer: ActiveMQ's queue prefetch default. */
  prefetch: 1000,
  /** browse gives up when the broker sends nothing for this long before `browser:end`. */
  browseIdleTimeoutMs: 5_000,
  /** status gives up when the statistics answer does not come within this. */
  statusTimeoutMs: 5_000,
});

/** Connection flags every client command takes, first in its flag table. */
export const CONNECTION_FLAGS: readonly FlagSpec[] = Object.freeze([
  { name: 'url', type: 'string', value: 'URI', help: 'broker: tcp://, stomp://, ws:// or failover:(uri,…)?options', default: CLIENT_DEFAULTS.url },
  { name: 'user', type: 'string', value: 'NAME', help: 'login sent in CONNECT', default: 'none' },
  { name: 'password', type: 'string', value: 'TEXT', help: 'passcode sent in CONNECT', default: 'none' },
]);

/** How a client command reaches its broker. */
export interface ConnectionArgs {
  /** The URI as given: messages quote it back unchanged. */
  readonly url: string;
  readonly login: string | undefined;
  readonly passcode: string | undefined;
}

/** Checks a broker URI the way the client will read it; a bad one names the flag and says what is wrong. */
export function brokerUrl(value: string, setting: Setting): string {
  try {
    parseFailoverUri(value);
  } catch (error) {
    const why = (error as Error).message.replace(/^bad (failover|broker) URI "[^"]*": /, '');
    throw new CliError('CLI_CONFIG_INVALID', `${setting.name} must be a broker URI such as tcp://127.0.0.1:61613, got ${describeValue(value)}: ${why}`, { cause: error });
  }
  return value;
}

/** The connection flags of a parsed command line. */
export function readConnectionArgs(command: string, values: FlagValues): ConnectionArgs {
  const url = typeof values.url === 'string' ? checked(command, () => brokerUrl(values.url as string, { name: '--url' })) : CLIENT_DEFAULTS.url;
  return {
    url,
    login: typeof values.user === 'string' ? values.user : undefined,
    passcode: typeof values.password === 'string' ? values.password : undefined,
  };
}

/** A client command's parsed command line: `--help` alone, or everything it needs to run. */
export type Parsed<T> = { readonly help: true } | ({ readonly help: false } & T);

/** The typed value of a flag the command cannot run without. */
export function required<T>(command: string, values: FlagValues, name: string, read: (value: string, setting: Setting) => T): T {
  const value = given(command, values, name, read);
  if (value === undefined) usage(`--${name} is required`, command);
  return value;
}
