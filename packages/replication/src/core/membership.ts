/**
 * Membership: what this node tells ZooKeeper about itself (its member znode's data), sent only when it
 * changes: every publish is a ZooKeeper write and a watch event on every other member.
 */
import type { NodeContext } from './context.js';
import type { LogPosition, MemberData } from './types.js';

function samePosition(a: LogPosition | null, b: LogPosition | null): boolean {
  return a === b || (a !== null && b !== null && a.epoch === b.epoch && a.index === b.index);
}

/** Publishes this node's member data; see the file comment. */
export class Membership {
  private readonly ctx: NodeContext;
  private last: MemberData | null = null;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
  }

  /** The data last sent, or null before the first registration. */
  get published(): MemberData | null {
    return this.last;
  }

  /** Opens a new session with a fresh member znode that has reported nothing yet. */
  register(): void {
    const data = this.data(null, 0);
    this.last = data;
    this.ctx.out.request({ kind: 'register', data });
  }

  /**
   * Reports `position` for the election of `forEpoch`, or (null) that this node follows or serves.
   * A recovering node never reports a position: its log may be missing what it once acknowledged.
   */
  publish(position: LogPosition | null, forEpoch: number, yielding = false): void {
    const data = this.data(this.ctx.hard.recovering ? null : position, forEpoch, yielding && position !== null);
    const p = this.last;
    if (p !== null && p.recovering === data.recovering && p.forEpoch === data.forEpoch && samePosition(p.position, data.position)
      && (p.yielding === true) === (data.yielding === true)) {
      return;
    }
    this.last = data;
    this.ctx.out.request({ kind: 'publish', data });
  }

  private data(position: LogPosition | null, forEpoch: number, yielding = false): MemberData {
    const { id, address, weight } = this.ctx.config;
    const data = { id, address, weight, position, forEpoch, recovering: this.ctx.hard.recovering };
    return yielding ? { ...data, yielding } : data;
  }
}
