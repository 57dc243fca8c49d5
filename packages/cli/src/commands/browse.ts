/**
 * `mini-amq browse`: ActiveMQ's `activemq browse` for STOMP. A SUBSCRIBE with `browser:true` makes the broker
 * send a copy of every message on the queue, then one MESSAGE with `browser:end` [ActiveMQ stomp.md:
 * browser]; nothing is consumed. The listing is a table (id, headers, body preview) or, with --json, one
 * JSON array with every header and the whole body.
 */
import { PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER, type Message } from '@mini-amq/stomp';
import { aborted, BrokerSession } from '../broker-session.js';
import { CLIENT_DEFAULTS, CONNECTION_FLAGS, readConnectionArgs, required, type ConnectionArgs, type Parsed } from '../client-args.js';
import { explainRunFailure } from '../client-failures.js';
import type { CommandIo } from '../command-io.js';
import { queueArg, type DestinationArg } from '../destination-arg.js';
import { formatBytes, preview, table } from '../display.js';
import { CliError } from '../errors.js';
import { HELP_FLAG, helpText, readFlags, type FlagSpec } from '../flag-table.js';

const COMMAND = 'mini-amq browse';
/** Body characters shown per message in the table; --json has the whole body. */
const BODY_PREVIEW_CHARS = 40;
/** Header text shown per message in the table. */
const HEADERS_PREVIEW_CHARS = 60;
/**
 * Headers the table leaves out: the frame's own bookkeeping, the failover client's duplicate detection,
 * and defaults that would repeat on every row (priority 4 and expires 0 are JMS's defaults,
 * persistent:false the STOMP one). --json keeps them all.
 */
const ROUTINE_HEADERS = new Set([
  'subscription', 'message-id', 'destination', 'browser', 'content-length', 'ack', 'timestamp', PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER,
]);
const DEFAULT_VALUES: Readonly<Record<string, string>> = Object.freeze({ priority: '4', expires: '0', persistent: 'false' });

export const BROWSE_FLAGS: readonly FlagSpec[] = Object.freeze([
  CONNECTION_FLAGS[0]!,
  { name: 'destination', type: 'string', value: 'QUEUE', help: 'queue://NAME or /queue/NAME (required)' },
  { name: 'json', type: 'boolean', help: 'print one JSON array of {messageId, headers, body, bytes}' },
  ...CONNECTION_FLAGS.slice(1),
  HELP_FLAG,
]);

export interface BrowseArgs {
  readonly connection: ConnectionArgs;
  readonly destination: DestinationArg;
  readonly json: boolean;
}

/** Parses `mini-amq browse`'s arguments (argv after the command word). */
export function parseBrowseArgs(argv: readonly string[]): Parsed<BrowseArgs> {
  const values = readFlags(COMMAND, BROWSE_FLAGS, argv);
  if (values.help === true) return { help: true };
  return {
    help: false,
    connection: readConnectionArgs(COMMAND, values),
    destination: required(COMMAND, values, 'destination', queueArg),
    json: values.json === true,
  };
}

export function browseHelp(): string {
  return helpText({
    usage: `${COMMAND} --destination QUEUE [flags]`,
    about: [
      'Lists the messages on a queue without consuming them, like ActiveMQ\'s `activemq browse`: a',
      'SUBSCRIBE with `browser:true`, answered with a copy of every message, then a MESSAGE with',
      '`browser:end`. Prints one row per message (id, headers, start of the body), then a count.',
    ],
    flags: BROWSE_FLAGS,
    after: [
      `Exit status: 0 when the listing is complete, 1 on a runtime failure (cannot connect, refused login,`,
      `no browser:end after ${CLIENT_DEFAULTS.browseIdleTimeoutMs / 1000} s of silence), 2 for a bad command line.`,
    ],
    examples: [
      `${COMMAND} --destination queue://orders`,
      `${COMMAND} --destination /queue/orders --json | jq length`,
    ],
  });
}

/** One message as browse shows it. */
export interface BrowsedMessage {
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly bytes: number;
}

/** `k=v` pairs of the headers worth a glance. */
export function headerSummary(headers: Readonly<Record<string, string>>): string {
  return Object.entries(headers)
    .filter(([name, value]) => !ROUTINE_HEADERS.has(name) && DEFAULT_VALUES[name] !== value)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

/** The human-readable listing. */
export function browseTable(destination: string, messages: readonly BrowsedMessage[]): string {
  const rows = messages.map((m, i) => [
    i + 1, m.messageId, preview(headerSummary(m.headers), HEADERS_PREVIEW_CHARS), formatBytes(m.bytes), preview(m.body, BODY_PREVIEW_CHARS),
  ]);
  const lines = messages.length === 0 ? [] : table(['#', 'message-id', 'headers', 'size', 'body'], rows, ['size']);
  const count = `${messages.length} message${messages.length === 1 ? '' : 's'} on ${destination} (browsed, not consumed)`;
  return [...lines, count, ''].join('\n');
}

/** Runs `mini-amq browse`; resolves to 0, or throws the CliError that explains the failure. */
export async function runBrowse(args: BrowseArgs, io: CommandIo): Promise<number> {
  const session = await BrokerSession.open(args.connection, io);
  let messages: BrowsedMessage[] = [];
  let finish!: (complete: boolean) => void;
  const ended = new Promise<boolean>((resolve) => { finish = resolve; });
  // The broker streams the listing without pause, so silence this long means it will not end it.
  const idle = setTimeout(() => finish(false), CLIENT_DEFAULTS.browseIdleTimeoutMs);
  // After a failover the browser is re-subscribed and the broker lists the queue from the start again.
  session.client.on('reconnect', () => { messages = []; });
  const onMessage = (m: Message) => {
    idle.refresh();
    if (m.headers.browser === 'end') finish(true);
    else messages.push({ messageId: m.messageId, headers: { ...m.headers }, body: m.text, bytes: m.body.length });
  };
  let complete = false;
  try {
    session.client.subscribe(args.destination.stomp, onMessage, { headers: { browser: 'true' } });
    complete = await session.guard(Promise.race([ended, aborted(io.signal).then(() => false)]));
  } catch (error) {
    session.close();
    throw error instanceof CliError ? error : explainRunFailure(error, args.connection.url) ?? error;
  } finally {
    clearTimeout(idle);
  }
  await session.end().catch(() => session.close());
  if (!complete) {
    if (io.signal.aborted) throw new CliError('CLI_INTERRUPTED', `interrupted after ${messages.length} messages of ${args.destination.stomp} were listed`);
    throw new CliError('CLI_TIMEOUT', `timeout: the broker sent nothing for ${CLIENT_DEFAULTS.browseIdleTimeoutMs / 1000} s and no browser:end after ${messages.length} messages of ${args.destination.stomp}`);
  }
  io.out(args.json ? `${JSON.stringify(messages)}\n` : browseTable(args.destination.stomp, messages));
  return 0;
}
