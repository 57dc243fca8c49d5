/** Types for zookeeper.mjs (plain ESM so that run-tests.mjs can load it unbuilt); see that file. */
export declare const ZOOKEEPER_JAR: string;
export declare const ZK_START_TIMEOUT_MS: number;
export declare function zookeeperInstalled(): boolean;
export declare function ensureZookeeperInstalled(log?: (line: string) => void): void;
export declare function freePort(host?: string): Promise<number>;
export declare function fourLetterWord(host: string, port: number, word: string, timeoutMs?: number): Promise<string | null>;
/** A server started by startZooKeeper; `stop()` ends it by its PID and removes its directory. */
export interface ZooKeeperServer {
  readonly connect: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}
export declare function startZooKeeper(options?: {
  host?: string;
  port?: number;
  /** `server.N=127.0.0.1:peerPort:electionPort` lines, for an ensemble member. */
  servers?: readonly string[];
  myid?: number;
  timeoutMs?: number;
}): Promise<ZooKeeperServer>;
