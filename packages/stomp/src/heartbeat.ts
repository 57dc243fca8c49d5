/**
 * Heart-beat negotiation, a pure function of the two CONNECT/CONNECTED headers
 * ([STOMP 1.2: Heart-beating]); the client owns the timers.
 */

/** Intervals one side keeps, in ms; 0 = none. */
export interface HeartBeatPlan {
  /** Send something (a frame or an EOL) at least this often. */
  readonly sendMs: number;
  /** The peer promised to send something at least this often. */
  readonly expectMs: number;
}

/** The peer is considered dead after this many expected intervals without a byte: one late beat is network jitter, not death. */
export const HEART_BEAT_GRACE_FACTOR = 2;

export const NO_HEART_BEAT: HeartBeatPlan = Object.freeze({ sendMs: 0, expectMs: 0 });

const HEART_BEAT = /^\s*([0-9]+)\s*,\s*([0-9]+)\s*$/;

/** Parses a `heart-beat` header ("cx,cy"); undefined when absent or malformed. */
export function parseHeartBeat(value: string | undefined): [number, number] | undefined {
  const m = value === undefined ? null : HEART_BEAT.exec(value);
  if (m === null) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return Number.isSafeInteger(a) && Number.isSafeInteger(b) ? [a, b] : undefined;
}

/**
 * What this side does, given what it asked for (`mine`: [can send every, wants every]) and what the
 * peer answered (`theirs`, same shape from its side).
 * [STOMP 1.2: Heart-beating] "if x>0 and sy>0 ... heart-beating from the client to the server will be
 * at max(cx,sy) milliseconds"; the other direction is symmetric. A 0 on either side means none.
 */
export function negotiateHeartBeat(mine: readonly [number, number], theirs: readonly [number, number] | undefined): HeartBeatPlan {
  if (theirs === undefined) return NO_HEART_BEAT;
  const [canSend, wants] = mine;
  const [peerCanSend, peerWants] = theirs;
  return {
    sendMs: canSend > 0 && peerWants > 0 ? Math.max(canSend, peerWants) : 0,
    expectMs: wants > 0 && peerCanSend > 0 ? Math.max(wants, peerCanSend) : 0,
  };
}
