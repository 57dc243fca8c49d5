/**
 * `mini-amq status`: ActiveMQ's `activemq dstat` for STOMP, asked over STOMP itself with the convention of
 * ActiveMQ's StatisticsBrokerPlugin: SUBSCRIBE to a temporary queue, SEND an empty message to
 * `/queue/ActiveMQ.Statistics.Broker` with `reply-to` naming that queue, and the broker answers with one
 * MESSAGE (content-type application/json) holding its statistics (see status-report.ts for the shape).
 */
import type { Message } from '@mini-amq/stomp';
import { aborted, BrokerSession } from '../broker-session.js';
import { CLIENT_DEFAULTS, CONNECTION_FLAGS, readConnectionArgs, type ConnectionArgs, type Parsed } from '../client-args.js';
import { explainRunFailure } from '../client-failures.js';
import type { CommandIo } from '../command-io.js';
import { CliError } from '../errors.js';
import { HELP_FLAG, helpText, readFlags, type FlagSpec } from '../flag-table.js';
import { readStatistics, statusTable } from '../status-report.js';

const COMMAND = 'mini-amq status';
/** [ActiveMQ StatisticsBrokerPlugin] a message sent here is answered with the broker's statistics. */
export const STATISTICS_DESTINATION = '/queue/ActiveMQ.Statistics.Broker';
/** Where the answer goes: a temporary queue of this connection, named in the request's reply-to. */
export const STATUS_REPLY_DESTINATION = '/temp-queue/mini-amq-status';
/**
 * The request expires after this (a STOMP `expires` header), so a broker without the statistics
 * destination does not keep empty requests queued there forever. Generous, so clock skew between this
 * machine and the broker cannot expire a request before it is read.
 */
const REQUEST_EXPIRY_MS = 60_000;

export const STATUS_FLAGS: readonly FlagSpec[] = Object.freeze([
  ...CONNECTION_FLAGS,
  { name: 'json', type: 'boolean', help: 'print the broker\'s statistics as one JSON object' },
  HELP_FLAG,
]);

export interface StatusArgs {
  readonly connection: ConnectionArgs;
  readonly json: boolean;
}

/** Parses `mini-amq status`'s arguments (argv after the command word). */
export function parseStatusArgs(argv: readonly string[]): Parsed<StatusArgs> {
  const values = readFlags(COMMAND, STATUS_FLAGS, argv);
  if (values.help === true) return { help: true };
  return { help: false, connection: readConnectionArgs(COMMAND, values), json: values.json === true };
}

export function statusHelp(): string {
  return helpText({
    usage: `${COMMAND} [flags]`,
    about: [
      'Shows the broker and its destinations, like ActiveMQ\'s `activemq dstat`: name, role, group, uptime,',
      'connections, then per destination the messages pending (Queue Size), delivered and not yet',
      'acknowledged (In Flight), consumers, enqueued and dequeued counts, and memory used.',
      '',
      `It asks over STOMP, as ActiveMQ's StatisticsBrokerPlugin is asked: an empty SEND to`,
      `${STATISTICS_DESTINATION} with reply-to ${STATUS_REPLY_DESTINATION}; the broker answers`,
      'with one JSON MESSAGE.',
    ],
    flags: STATUS_FLAGS,
    after: [
      `Exit status: 0 with an answer, 1 on a runtime failure (cannot connect, refused login, no answer`,
      `within ${CLIENT_DEFAULTS.statusTimeoutMs / 1000} s, an answer that is not the expected JSON), 2 for a bad command line.`,
    ],
    examples: [
      COMMAND,
      `${COMMAND} --url tcp://broker1:61613 --json | jq '.destinations[] | {destination, pending}'`,
    ],
  });
}

/** Runs `mini-amq status`; resolves to 0, or throws the CliError that explains the failure. */
export async function runStatus(args: StatusArgs, io: CommandIo, timeoutMs: number = CLIENT_DEFAULTS.statusTimeoutMs): Promise<number> {
  const session = await BrokerSession.open(args.connection, io);
  let timer: NodeJS.Timeout | undefined;
  let answer: Message | undefined;
  try {
    const answered = new Promise<Message>((resolve, reject) => {
      const sub = session.client.subscribe(STATUS_REPLY_DESTINATION, resolve, { receipt: true });
      // Ask only once the reply queue exists: an answer sent before it would be lost.
      void sub.ready?.then(() => session.client.sendWithReceipt(STATISTICS_DESTINATION, '', {
        'reply-to': STATUS_REPLY_DESTINATION,
        expires: Date.now() + REQUEST_EXPIRY_MS,
      })).catch(reject); // a refused SUBSCRIBE or SEND: the broker's ERROR says why
    });
    const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, timeoutMs, undefined); });
    answer = await session.guard(Promise.race([answered, timeout, aborted(io.signal).then(() => undefined)]));
  } catch (error) {
    session.close();
    throw error instanceof CliError ? error : explainRunFailure(error, args.connection.url) ?? error;
  } finally {
    clearTimeout(timer);
  }
  await session.end().catch(() => session.close());
  if (answer === undefined) {
    if (io.signal.aborted) throw new CliError('CLI_INTERRUPTED', 'interrupted while waiting for the broker\'s statistics');
    throw new CliError('CLI_TIMEOUT', `no answer from the broker's statistics destination within ${timeoutMs / 1000} s (${STATISTICS_DESTINATION}; does this broker support it?)`);
  }
  const statistics = readStatistics(answer.text);
  io.out(args.json ? `${JSON.stringify(statistics)}\n` : statusTable(statistics));
  return 0;
}
