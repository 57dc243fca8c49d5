/**
 * Shared fixtures of the network tests: named brokers in this process on free ports (MemoryStore), network
 * connectors over real sockets, StompClients, and bounded waits on conditions; everything is closed
 * after each test, connectors before brokers.
 */
import { afterEach } from 'vitest';
import { startBroker, type RunningBroker } from '@mini-amq/broker';
import { StompClient, type Message } from '@mini-amq/stomp';
import { MemoryStore, type AppendResult, type LogEntry } from '@mini-amq/store';
import { NetworkConnector, parseNetworkConnector, type NetworkConnectorSettings } from '../src/index.js';

export const WAIT_MS = 10_000;

const connectors: NetworkConnector[] = [];
const brokers: RunningBroker[] = [];
const clients: StompClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(connectors.splice(0).map((c) => c.close()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, what: () => string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(10);
  }
}

export interface TestBroker {
  readonly name: string;
  readonly running: RunningBroker;
  readonly url: string;
  /** The pending (not yet delivered or acked) messages of a destination on this broker. */
  pending(destination: string): number;
  /** Consumers of a destination (bridges' included). */
  consumers(destination: string): number;
  client(): Promise<StompClient>;
}

export async function startNamedBroker(name: string, store: MemoryStore = new MemoryStore(), port = 0): Promise<TestBroker> {
  const running = await startBroker({ brokerName: name, stompPort: port, wsPort: null, host: '127.0.0.1', store });
  brokers.push(running);
  const url = `tcp://127.0.0.1:${running.stompPort}`;
  const row = (d: string) => running.broker.stats().find((s) => s.destination === d);
  return {
    name, running, url,
    pending: (d) => { const r = row(d); return r === undefined ? 0 : r.pending + r.inflight; },
    consumers: (d) => row(d)?.consumers ?? 0,
    client: async () => {
      const c = await StompClient.connect(url, { acceptVersion: '1.2' });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
  };
}

/** Starts a connector on `local` with `uri` (`static:(…)` etc., built by the caller) and extra settings. */
export function connect(local: TestBroker, uri: string, extra: Partial<NetworkConnectorSettings> = {}): NetworkConnector {
  const connector = NetworkConnector.start({ config: parseNetworkConnector(uri, extra), localBrokerName: local.name, localUrl: local.url });
  connectors.push(connector);
  return connector;
}

/** `static:(url,…)` to the given brokers. */
export function staticUri(...remotes: TestBroker[]): string {
  return `static:(${remotes.map((r) => r.url).join(',')})`;
}

/** Waits until every bridge of `c` is connected. */
export async function connected(c: NetworkConnector): Promise<void> {
  await waitFor(() => c.status().every((s) => s.state === 'connected'), () => `bridges connected: ${JSON.stringify(c.status())}`);
}

/** Waits until a bridge of `c` forwards `destination` on demand (or, with `false`, no longer does). */
export async function demand(c: NetworkConnector, destination: string, wanted = true): Promise<void> {
  await waitFor(() => c.status().some((s) => s.demand.includes(destination)) === wanted, () => `demand for ${destination} ${wanted ? 'to start' : 'to end'}: ${JSON.stringify(c.status())}`);
}

/** A consumer that acks each message and keeps its body. */
export interface Collector {
  readonly bodies: string[];
  readonly messages: Message[];
  unsubscribe(): Promise<void>;
}

export async function collect(client: StompClient, destination: string, headers: Record<string, string> = {}): Promise<Collector> {
  const bodies: string[] = [];
  const messages: Message[] = [];
  const sub = client.subscribe(destination, (m) => { bodies.push(m.text); messages.push(m); m.ack(); }, { ack: 'client-individual', headers, receipt: true });
  await sub.ready;
  return { bodies, messages, unsubscribe: () => sub.unsubscribe() };
}

/** Sends `n` messages with receipts: bodies `${prefix}1` … `${prefix}n`. */
export async function sendAll(client: StompClient, destination: string, n: number, prefix = 'm', headers: Record<string, string> = {}): Promise<string[]> {
  const bodies = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  await Promise.all(bodies.map((b) => client.sendWithReceipt(destination, b, headers)));
  return bodies;
}

/** A MemoryStore whose writes can be held back: while stalled, nothing it appends becomes durable. */
export class StallableStore extends MemoryStore {
  private gate: Promise<void> | null = null;
  private openGate: () => void = () => {};

  stall(): void {
    this.gate = new Promise((resolve) => { this.openGate = resolve; });
  }

  release(): void {
    this.openGate();
    this.gate = null;
  }

  override append(entries: readonly LogEntry[]): AppendResult {
    const result = super.append(entries);
    const gate = this.gate;
    return gate === null ? result : { firstIndex: result.firstIndex, durable: result.durable.then(() => gate) };
  }
}
