/**
 * `mini-amq start`: wires a logger into the broker, starts it, logs where it listens, and on SIGTERM or
 * SIGINT closes it gracefully (listeners, connections, then the store is flushed) before returning 0.
 * A second signal during that close exits at once: the user asked twice and may have a reason.
 */
import type { Logger } from 'pino';
import { startBroker, type RunningBroker } from '@mini-amq/broker';
import type { CliConfig } from './config.js';
import { startMember } from './group-start.js';
import { startNetwork } from './network-start.js';
import { EXIT_FAILURE, EXIT_OK } from './errors.js';
import { explainStartFailure } from './failures.js';
import { createLogger, listenersText } from './logger.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];
/** Shell convention for "ended by signal N": 128 + N (SIGINT 2, SIGTERM 15). */
const SIGNAL_EXIT_STATUS: Readonly<Record<StopSignal, number>> = Object.freeze({ SIGINT: 130, SIGTERM: 143 });

/** What start needs from its surroundings; tests may pass their own. */
export interface StartIo {
  /** Prints one line for the user (stderr in the binary). */
  readonly printError: (line: string) => void;
  /** Called on a second stop signal; the binary exits the process. */
  readonly exitNow: (status: number) => void;
}

const processIo: StartIo = {
  printError: (line) => process.stderr.write(`mini-amq: ${line}\n`),
  exitNow: (status) => process.exit(status),
};

/** Runs a broker until a stop signal; resolves to the exit status. */
export async function runStart(config: CliConfig, io: StartIo = processIo): Promise<number> {
  const logger = createLogger({
    brokerName: config.broker.brokerName,
    group: config.group,
    role: config.replication === null ? 'standalone' : 'member',
    level: config.logLevel,
    pretty: config.pretty,
  });
  // Listen for stop signals before starting: a SIGTERM that lands while the store opens is then honoured
  // gracefully right after the start instead of killing the process with its store half open.
  const stopSignal = nextStopSignal();
  let broker: Closable;
  try {
    if (config.replication !== null) {
      // A member opens its client ports only while master; group-start.ts logs them then.
      broker = await startMember(config, config.replication, logger);
      return stop(broker, await stopSignal.received, logger, io);
    }
    broker = await startBroker({ ...config.broker, group: config.group, logger });
  } catch (error) {
    stopSignal.cancel();
    const explained = explainStartFailure(error, config.broker);
    if (explained === null) throw error;
    logger.error({ code: explained.code }, explained.message);
    io.printError(explained.message);
    return EXIT_FAILURE;
  }
  const standalone = broker as RunningBroker;
  logger.info({
    stompPort: standalone.stompPort,
    wsPort: standalone.wsPort,
    host: config.broker.host,
    dataDir: config.broker.dataDir,
    configFile: config.configFile,
  }, `listening: ${listenersText(config.broker.host, standalone.stompPort, standalone.wsPort)}, data in ${config.broker.dataDir}`);
  const network = startNetwork(config, standalone, logger);
  const describe = standalone.broker.describe;
  standalone.broker.describe = () => ({ ...describe(), network: network.status() });
  const signal = await stopSignal.received;
  // Bridges first: their unacknowledged messages go back to the local queues while the broker still runs.
  return stop({ close: async () => { await network.close(); await standalone.close(); } }, signal, logger, io);
}

/**
 * The first SIGTERM or SIGINT from now on. While waiting, those signals no longer kill the process; once
 * one arrives (or on cancel) the default comes back, so a further one kills at once unless stop() catches it.
 */
function nextStopSignal(): { readonly received: Promise<StopSignal>; cancel(): void } {
  const handlers: Array<readonly [StopSignal, () => void]> = [];
  const cancel = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  const received = new Promise<StopSignal>((resolve) => {
    for (const signal of STOP_SIGNALS) {
      const handler = () => {
        cancel();
        resolve(signal);
      };
      process.on(signal, handler);
      handlers.push([signal, handler]);
    }
  });
  return { received, cancel };
}

/** What a stop signal closes: a standalone broker, or a group member with the broker it runs as master. */
interface Closable {
  close(): Promise<void>;
}

async function stop(broker: Closable, signal: StopSignal, logger: Logger, io: StartIo): Promise<number> {
  logger.info({ signal }, `${signal}: closing connections and flushing the store (a second signal exits at once)`);
  const again = (second: StopSignal) => {
    logger.warn({ signal: second }, `second stop signal (${second}): exiting without finishing the shutdown`);
    io.exitNow(SIGNAL_EXIT_STATUS[second]);
  };
  for (const s of STOP_SIGNALS) process.on(s, again);
  try {
    await broker.close();
    logger.info('shutdown complete');
    return EXIT_OK;
  } catch (error) {
    logger.error({ err: error }, 'broker did not close cleanly');
    io.printError(`shutdown failed: ${(error as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, again);
  }
}
