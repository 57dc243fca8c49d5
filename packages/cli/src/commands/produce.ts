/**
 * `mini-amq produce`: ActiveMQ's `activemq producer` for STOMP. Sends --count messages to one destination;
 * each carries `seq` (0-based) and `producer-run` (one id per run) so `mini-amq consume` can count what was
 * lost or duplicated on the way. With --persistent or --receipts at most RECEIPT_WINDOW messages are
 * unconfirmed at a time; without them messages go as fast as the connection takes them. Either way the run
 * ends only once the broker has confirmed every message (the failover client tracks each SEND until its
 * RECEIPT, to re-send it after a failover), so `sent` counts confirmed messages.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { aborted, BrokerSession } from '../broker-session.js';
import { CLIENT_DEFAULTS, CONNECTION_FLAGS, readConnectionArgs, required, type ConnectionArgs, type Parsed } from '../client-args.js';
import { explainRunFailure } from '../client-failures.js';
import type { CommandIo } from '../command-io.js';
import { destinationArg, type DestinationArg } from '../destination-arg.js';
import { formatElapsed, ratePerSecond } from '../display.js';
import { CliError } from '../errors.js';
import { given, HELP_FLAG, helpText, readFlags, usage, type FlagSpec } from '../flag-table.js';
import { ProgressBar } from '../progress.js';
import { RUN_HEADER, SEQ_HEADER } from '../sequence-audit.js';
import { FRAME_BYTES_LIMIT, positiveInteger, size } from '../values.js';

const COMMAND = 'mini-amq produce';
/** The body of --size messages repeats this: printable, so `consume --print` shows something readable. */
const FILLER = 'mini-amq ';

export const PRODUCE_FLAGS: readonly FlagSpec[] = Object.freeze([
  CONNECTION_FLAGS[0]!,
  { name: 'destination', type: 'string', value: 'DEST', help: 'queue://NAME, topic://NAME, /queue/NAME or /topic/NAME (required)' },
  { name: 'count', type: 'string', value: 'N', help: 'messages to send', default: String(CLIENT_DEFAULTS.count) },
  { name: 'size', type: 'string', value: 'BYTES', help: 'body size, bytes or "10 kb", unless --message or --file', default: String(CLIENT_DEFAULTS.messageSizeBytes) },
  { name: 'message', type: 'string', value: 'TEXT', help: 'every message\'s body' },
  { name: 'file', type: 'string', value: 'FILE', help: 'every message\'s body is this file\'s content' },
  { name: 'persistent', type: 'boolean', help: 'persistent:true, stored before the RECEIPT; implies --receipts' },
  { name: 'receipts', type: 'boolean', help: `wait for RECEIPTs, at most ${CLIENT_DEFAULTS.receiptWindow} messages unconfirmed` },
  { name: 'rate', type: 'string', value: 'N', help: 'send at most N messages per second', default: 'unlimited' },
  { name: 'json', type: 'boolean', help: 'print the result as one JSON object instead of a summary' },
  ...CONNECTION_FLAGS.slice(1),
  HELP_FLAG,
]);

/** Where the bodies come from. */
export type BodySource =
  | { readonly kind: 'size'; readonly bytes: number }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'file'; readonly path: string };

export interface ProduceArgs {
  readonly connection: ConnectionArgs;
  readonly destination: DestinationArg;
  readonly count: number;
  readonly body: BodySource;
  readonly persistent: boolean;
  /** True with --receipts or --persistent. */
  readonly receipts: boolean;
  /** Messages per second, or null for as fast as possible. */
  readonly rate: number | null;
  readonly json: boolean;
}

/** Parses `mini-amq produce`'s arguments (argv after the command word). */
export function parseProduceArgs(argv: readonly string[]): Parsed<ProduceArgs> {
  const values = readFlags(COMMAND, PRODUCE_FLAGS, argv);
  if (values.help === true) return { help: true };
  const bodies = ['message', 'file', 'size'].filter((name) => values[name] !== undefined);
  if (bodies.length > 1) usage(`${bodies.map((b) => `--${b}`).join(' and ')} both give the body: pass one`, COMMAND);
  const sizeBytes = given(COMMAND, values, 'size', (v, s) => size(v, s, FRAME_BYTES_LIMIT));
  const body: BodySource = typeof values.message === 'string' ? { kind: 'text', text: values.message }
    : typeof values.file === 'string' ? { kind: 'file', path: values.file }
    : { kind: 'size', bytes: sizeBytes ?? CLIENT_DEFAULTS.messageSizeBytes };
  const persistent = values.persistent === true;
  return {
    help: false,
    connection: readConnectionArgs(COMMAND, values),
    destination: required(COMMAND, values, 'destination', destinationArg),
    count: given(COMMAND, values, 'count', positiveInteger) ?? CLIENT_DEFAULTS.count,
    body,
    persistent,
    receipts: persistent || values.receipts === true,
    rate: given(COMMAND, values, 'rate', positiveInteger) ?? null,
    json: values.json === true,
  };
}

export function produceHelp(): string {
  return helpText({
    usage: `${COMMAND} --destination DEST [flags]`,
    about: [
      'Sends messages to a queue or topic, like ActiveMQ\'s `activemq producer`. Every message carries the',
      'headers `seq` (0, 1, 2, …) and `producer-run` (an id for this run), from which `mini-amq consume`',
      'counts lost and duplicated messages. The run ends once the broker has confirmed every message;',
      'then it prints a one-line summary (or, with --json, one JSON object). On a terminal a progress bar',
      'shows on stderr meanwhile.',
    ],
    flags: PRODUCE_FLAGS,
    after: [
      'Exit status: 0 when every message was confirmed, 1 on a runtime failure (cannot connect, refused',
      'login, connection lost, interrupted before --count), 2 for a bad command line.',
    ],
    examples: [
      `${COMMAND} --destination queue://orders --count 500 --persistent`,
      `${COMMAND} --url 'failover:(tcp://a:61613,tcp://b:61613)' --destination topic://prices --rate 100 --message hello`,
    ],
  });
}

/** How long to wait before message `index` so that --rate is not exceeded; 0 when it is due. */
export function pacingDelayMs(index: number, rate: number | null, elapsedMs: number): number {
  if (rate === null) return 0;
  return Math.max(0, (index * 1000) / rate - elapsedMs);
}

/** Counts sends awaiting their RECEIPT and lets the sender wait until fewer than a bound are. */
class InflightWindow {
  private inflight = 0;
  private wake: (() => void) | null = null;

  add(): void { this.inflight++; }

  release(): void {
    this.inflight--;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Resolves once fewer than `bound` sends are unconfirmed. */
  async below(bound: number): Promise<void> {
    while (this.inflight >= bound) await new Promise<void>((resolve) => { this.wake = resolve; });
  }
}

async function loadBody(source: BodySource): Promise<string | Buffer> {
  if (source.kind === 'text') return source.text;
  if (source.kind === 'size') return Buffer.alloc(source.bytes, FILLER);
  try {
    return await readFile(source.path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError('CLI_INPUT_UNREADABLE', `cannot read --file ${source.path}: ${reason}`, { cause: error });
  }
}

/** The machine-readable result (--json), also the source of the summary line. */
export interface ProduceResult {
  readonly command: 'produce';
  readonly url: string;
  readonly destination: string;
  readonly producerRun: string;
  readonly requested: number;
  /** Messages the broker confirmed. */
  readonly sent: number;
  readonly bodyBytes: number;
  readonly persistent: boolean;
  readonly receipts: boolean;
  readonly elapsedMs: number;
  readonly msgsPerSecond: number;
  /** The failure that ended the run early, as printed on stderr; absent on success. */
  readonly error?: string;
}

function summary(r: ProduceResult): string {
  const kind = r.persistent ? 'persistent ' : '';
  return `sent ${r.sent} of ${r.requested} ${kind}messages (${r.bodyBytes} bytes each) to ${r.destination} in ${formatElapsed(r.elapsedMs)}: `
    + `${r.msgsPerSecond} msgs/s, producer-run ${r.producerRun}\n`;
}

/** Runs `mini-amq produce`; resolves to 0, or throws the CliError that explains the failure. */
export async function runProduce(args: ProduceArgs, io: CommandIo): Promise<number> {
  const body = await loadBody(args.body);
  const session = await BrokerSession.open(args.connection, io);
  const producerRun = randomUUID();
  const window = new InflightWindow();
  const stopped = aborted(io.signal);
  const started = io.now();
  const progress = new ProgressBar(io.err, 'sent', args.count, io.now, started);
  let sent = 0;
  let sendFailure: unknown = null;
  let failure: unknown = null;
  try {
    for (let seq = 0; seq < args.count && !io.signal.aborted && sendFailure === null; seq++) {
      const delay = pacingDelayMs(seq, args.rate, io.now() - started);
      if (delay > 0) await session.guard(Promise.race([sleep(delay), stopped]));
      if (io.signal.aborted) break;
      const headers: Record<string, string | number> = { [SEQ_HEADER]: seq, [RUN_HEADER]: producerRun };
      if (args.persistent) headers.persistent = 'true';
      window.add();
      session.client.sendWithReceipt(args.destination.stomp, body, headers).then(
        () => { sent++; progress.update(sent); },
        (error: unknown) => { sendFailure ??= error; },
      ).finally(() => window.release());
      if (args.receipts) await session.guard(Promise.race([window.below(CLIENT_DEFAULTS.receiptWindow), stopped]));
      // waitDrain rejects only when the client closes, which `guard` reports with its reason.
      else if (!session.client.writable) await session.guard(Promise.race([session.client.waitDrain().catch(() => {}), stopped]));
    }
    await session.guard(window.below(1));
  } catch (error) {
    failure = error;
  } finally {
    progress.stop();
  }
  const elapsedMs = io.now() - started;
  failure ??= sendFailure === null ? null : explainRunFailure(sendFailure, args.connection.url) ?? sendFailure;
  if (failure === null && sent < args.count) {
    failure = new CliError('CLI_INTERRUPTED', `interrupted after ${sent} of ${args.count} messages were sent`);
  }
  if (failure === null || io.signal.aborted) await session.end().catch(() => session.close());
  else session.close();
  const result: ProduceResult = {
    command: 'produce', url: args.connection.url, destination: args.destination.stomp, producerRun, requested: args.count, sent,
    bodyBytes: Buffer.byteLength(body), persistent: args.persistent, receipts: args.receipts, elapsedMs: Math.round(elapsedMs),
    msgsPerSecond: ratePerSecond(sent, elapsedMs),
    ...(failure === null ? {} : { error: (failure as Error).message }),
  };
  io.out(args.json ? `${JSON.stringify(result)}\n` : summary(result));
  if (failure !== null) throw failure;
  return 0;
}
