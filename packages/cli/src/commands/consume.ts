/**
 * `mini-amq consume`: ActiveMQ's `activemq consumer` for STOMP. Receives from one destination until --count
 * messages arrived or none came for --timeout seconds, and audits the `seq`/`producer-run` headers that
 * `mini-amq produce` sets (see sequence-audit.ts) to report lost and duplicated messages.
 *
 * Taking exactly --count messages: with `ack:client` the broker counts a message as consumed only once
 * acknowledged, and pushes at most the prefetch of unacknowledged ones. The consumer asks for a prefetch of
 * at most --count and holds back its (cumulative) ACK whenever sending it would let the broker push more
 * than --count in all, so messages beyond --count stay on the queue. With `ack:auto` the broker counts a
 * message consumed as soon as it writes it [ActiveMQ stomp.md: ack mode auto], so a consumer that stops
 * at --count may take prefetched messages with it: auto is for topics and for draining.
 */
import type { Message, Subscription } from '@mini-amq/stomp';
import { aborted, BrokerSession } from '../broker-session.js';
import { CLIENT_DEFAULTS, CONNECTION_FLAGS, readConnectionArgs, required, type ConnectionArgs, type Parsed } from '../client-args.js';
import { explainRunFailure } from '../client-failures.js';
import type { CommandIo } from '../command-io.js';
import { destinationArg, type DestinationArg } from '../destination-arg.js';
import { formatElapsed, ratePerSecond } from '../display.js';
import { CliError } from '../errors.js';
import { given, HELP_FLAG, helpText, readFlags, usage, type FlagSpec } from '../flag-table.js';
import { ProgressBar } from '../progress.js';
import { RUN_HEADER, SEQ_HEADER, SequenceAudit, type AuditSummary } from '../sequence-audit.js';
import { invalid, nonEmptyString, nonNegativeInteger, type Setting } from '../values.js';

const COMMAND = 'mini-amq consume';
const ACK_MODES = ['auto', 'client'] as const;
type ConsumeAck = (typeof ACK_MODES)[number];

export const CONSUME_FLAGS: readonly FlagSpec[] = Object.freeze([
  CONNECTION_FLAGS[0]!,
  { name: 'destination', type: 'string', value: 'DEST', help: 'queue://NAME, topic://NAME, /queue/NAME or /topic/NAME (required)' },
  { name: 'count', type: 'string', value: 'N', help: 'stop after N messages; 0 = no limit', default: String(CLIENT_DEFAULTS.count) },
  { name: 'timeout', type: 'string', value: 'S', help: 'stop after S seconds without a message; 0 = wait forever', default: String(CLIENT_DEFAULTS.consumeTimeoutS) },
  { name: 'ack', type: 'string', value: 'MODE', help: 'auto|client; client takes no more than --count', default: CLIENT_DEFAULTS.consumeAck },
  { name: 'durable', type: 'string', value: 'NAME', help: 'durable topic subscription name (needs --client-id)', default: 'none' },
  { name: 'client-id', type: 'string', value: 'ID', help: 'client-id sent in CONNECT (JMS clientID)', default: 'none' },
  { name: 'print', type: 'boolean', help: 'print each body on stdout, one per line; the summary goes to stderr' },
  { name: 'json', type: 'boolean', help: 'print the result as one JSON object instead of a summary' },
  ...CONNECTION_FLAGS.slice(1),
  HELP_FLAG,
]);

export interface ConsumeArgs {
  readonly connection: ConnectionArgs;
  readonly destination: DestinationArg;
  /** 0 = no limit. */
  readonly count: number;
  /** Idle time that ends the run, in ms; 0 = none. */
  readonly timeoutMs: number;
  readonly ack: ConsumeAck;
  readonly durable: string | undefined;
  readonly clientId: string | undefined;
  readonly print: boolean;
  readonly json: boolean;
}

function ackMode(value: string, setting: Setting): ConsumeAck {
  if (!(ACK_MODES as readonly string[]).includes(value)) invalid(setting, ACK_MODES.join(' or '), value);
  return value as ConsumeAck;
}

/** Parses `mini-amq consume`'s arguments (argv after the command word). */
export function parseConsumeArgs(argv: readonly string[]): Parsed<ConsumeArgs> {
  const values = readFlags(COMMAND, CONSUME_FLAGS, argv);
  if (values.help === true) return { help: true };
  const destination = required(COMMAND, values, 'destination', destinationArg);
  const durable = given(COMMAND, values, 'durable', nonEmptyString);
  const clientId = given(COMMAND, values, 'client-id', nonEmptyString);
  if (durable !== undefined && clientId === undefined) usage('--durable needs --client-id: the broker keeps a durable subscription per client id and name', COMMAND);
  if (durable !== undefined && destination.kind !== 'topic') usage(`--durable works on topics only, got ${destination.stomp}`, COMMAND);
  if (values.print === true && values.json === true) usage('--print and --json both write stdout: pass one', COMMAND);
  return {
    help: false,
    connection: readConnectionArgs(COMMAND, values),
    destination,
    count: given(COMMAND, values, 'count', nonNegativeInteger) ?? CLIENT_DEFAULTS.count,
    timeoutMs: (given(COMMAND, values, 'timeout', nonNegativeInteger) ?? CLIENT_DEFAULTS.consumeTimeoutS) * 1000,
    ack: given(COMMAND, values, 'ack', ackMode) ?? CLIENT_DEFAULTS.consumeAck,
    durable,
    clientId,
    print: values.print === true,
    json: values.json === true,
  };
}

export function consumeHelp(): string {
  return helpText({
    usage: `${COMMAND} --destination DEST [flags]`,
    about: [
      'Receives messages from a queue or topic, like ActiveMQ\'s `activemq consumer`, until --count',
      'messages arrived or none came for --timeout seconds. From the `seq` and `producer-run` headers',
      'that `mini-amq produce` sets it counts, per producer run, lost messages (seqs missing below the',
      'highest seen) and duplicates (seqs seen twice). Ends with a one-line summary (or one JSON object);',
      'on a terminal a progress bar shows on stderr meanwhile.',
      '',
      'With --ack client (the default) a message is acknowledged only once counted, so a queue keeps',
      'whatever is beyond --count. With --ack auto the broker drops a message when it sends it, so',
      'prefetched messages beyond --count are gone too.',
    ],
    flags: CONSUME_FLAGS,
    after: [
      'Exit status: 0 when --count messages arrived (or, with --count 0, when the run ended by --timeout',
      'or Ctrl-C), 1 on a runtime failure (cannot connect, refused login or subscription, connection lost,',
      '--timeout or Ctrl-C before --count), 2 for a bad command line.',
    ],
    examples: [
      `${COMMAND} --destination queue://orders --count 500 --json`,
      `${COMMAND} --destination topic://prices --durable audit --client-id auditor --count 0 --print`,
    ],
  });
}

/**
 * Whether the cumulative ACK after the `received`-th message may go now: only while the broker, refilling
 * up to `prefetch` unacknowledged messages, could not push more than `count` in all (0 = no limit). The
 * ACK held back last goes when the run ends, written together with the UNSUBSCRIBE (see endSubscription).
 */
export function ackNow(received: number, count: number, prefetch: number): boolean {
  return count === 0 || received + prefetch <= count;
}

/** How the run ended. */
export type ConsumeEnd = 'count' | 'timeout' | 'interrupted' | 'failure';

/** The machine-readable result (--json), also the source of the summary line. */
export interface ConsumeResult extends AuditSummary {
  readonly command: 'consume';
  readonly url: string;
  readonly destination: string;
  /** --count, or null for no limit. */
  readonly requested: number | null;
  readonly ack: ConsumeAck;
  readonly endedBy: ConsumeEnd;
  /** From the SUBSCRIBE to the last message. */
  readonly elapsedMs: number;
  readonly msgsPerSecond: number;
  readonly error?: string;
}

function summary(r: ConsumeResult): string {
  const untracked = r.untracked === 0 ? '' : `, ${r.untracked} without seq headers`;
  return `received ${r.received} messages from ${r.destination} in ${formatElapsed(r.elapsedMs)}: ${r.msgsPerSecond} msgs/s, `
    + `lost ${r.lost}, duplicates ${r.duplicates}${untracked}\n`;
}

/** Runs `mini-amq consume`; resolves to 0, or throws the CliError that explains the failure. */
export async function runConsume(args: ConsumeArgs, io: CommandIo): Promise<number> {
  const session = await BrokerSession.open(args.connection, io, { clientId: args.clientId });
  const audit = new SequenceAudit();
  const prefetch = args.count === 0 ? CLIENT_DEFAULTS.prefetch : Math.min(args.count, CLIENT_DEFAULTS.prefetch);
  let received = 0;
  let unacked: Message | null = null;
  let subscribedAt = io.now();
  let lastAt = subscribedAt;
  let finish!: (end: ConsumeEnd) => void;
  const ended = new Promise<ConsumeEnd>((resolve) => { finish = resolve; });
  let done = false;
  const progress = new ProgressBar(io.err, 'received', args.count === 0 ? null : args.count, io.now);
  // One timer, pushed back by each message (refresh() is cheap), fires after --timeout of silence.
  const idle = args.timeoutMs === 0 ? undefined : setTimeout(() => finish('timeout'), args.timeoutMs);
  idle?.unref();

  const onMessage = (m: Message) => {
    if (done) return; // prefetched beyond --count: left unacknowledged, so the broker keeps it
    received++;
    lastAt = io.now();
    idle?.refresh();
    audit.record(m.headers[RUN_HEADER], m.headers[SEQ_HEADER]);
    if (args.print) io.out(`${m.text}\n`);
    progress.update(received);
    if (args.ack === 'client') {
      unacked = m;
      if (ackNow(received, args.count, prefetch)) {
        m.ack();
        unacked = null;
      }
    }
    if (args.count !== 0 && received >= args.count) finish('count');
  };

  const headers: Record<string, string> = { 'activemq.prefetchSize': String(prefetch) };
  if (args.durable !== undefined) headers['activemq.subscriptionName'] = args.durable;
  let end: ConsumeEnd;
  let failure: unknown = null;
  let sub: Subscription | undefined;
  try {
    subscribedAt = lastAt = io.now();
    sub = session.client.subscribe(args.destination.stomp, onMessage, { ack: args.ack, headers, receipt: true });
    await session.guard(Promise.race([sub.ready, aborted(io.signal)]));
    idle?.refresh(); // --timeout counts from the subscription, not from the connect
    end = await session.guard(Promise.race([ended, aborted(io.signal).then((): ConsumeEnd => 'interrupted')]));
  } catch (error) {
    // A refused SUBSCRIBE (e.g. a durable subscription on a queue) arrives as the broker's ERROR.
    failure = error instanceof CliError ? error : explainRunFailure(error, args.connection.url) ?? error;
    end = 'failure';
  } finally {
    done = true;
    clearTimeout(idle);
    progress.stop();
  }
  if (failure === null) {
    await endSubscription(sub as Subscription, unacked).catch(() => {});
    await session.end().catch(() => session.close());
  } else {
    session.close();
  }

  if (failure === null && args.count !== 0 && received < args.count) {
    failure = end === 'timeout'
      ? new CliError('CLI_TIMEOUT', `timeout: no message for ${args.timeoutMs / 1000} s; received ${received} of ${args.count}`)
      : new CliError('CLI_INTERRUPTED', `interrupted after ${received} of ${args.count} messages were received`);
  }
  const elapsedMs = Math.max(0, lastAt - subscribedAt);
  const result: ConsumeResult = {
    command: 'consume', url: args.connection.url, destination: args.destination.stomp, requested: args.count === 0 ? null : args.count,
    ack: args.ack, endedBy: end, ...audit.summary(), elapsedMs: Math.round(elapsedMs), msgsPerSecond: ratePerSecond(received, elapsedMs),
    ...(failure === null ? {} : { error: friendly(failure) }),
  };
  if (args.json) io.out(`${JSON.stringify(result)}\n`);
  else if (args.print) io.err.write(summary(result));
  else io.out(summary(result));
  if (failure !== null) throw failure;
  return 0;
}

/**
 * What was counted is consumed: the held-back ACK goes now (cumulative, so it covers every earlier message)
 * with the UNSUBSCRIBE in the same event-loop turn, so both leave in one write. The broker reads the two
 * frames together and drops the subscription before it could refill the prefetch the ACK freed; anything
 * it did push meanwhile stays unacknowledged and goes back to the queue.
 */
function endSubscription(sub: Subscription, unacked: Message | null): Promise<void> {
  unacked?.ack();
  return sub.unsubscribe();
}

function friendly(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
