// Goal: the pure cores decide what a bridge forwards and keep messages from looping: the tracker folds
// advisories (replayed and live) into consumers, the plan applies demand, networkTTL, the path rule,
// filters, static inclusions and replay of stranded messages, and the loop-guard selector (compiled by
// the broker's own selector engine) and header rewrite do what the path and hop count say; method: tables.
import { describe, expect, it } from 'vitest';
import { compileSelector } from '@mini-amq/broker';
import {
  ConsumerTracker, DestinationFilter, forwardedHeaders, loopGuardSelector, matchesDestination, parseAdvisory, planForwarding,
  type AdvisoryEvent, type ForwardingPolicy,
} from '../src/index.js';

const added = (destination: string, id: string, counts: [number, number], path?: string[]): AdvisoryEvent => ({
  type: 'ConsumerAdded', destination, consumerId: id, network: path !== undefined, networkPath: path ?? [], consumers: counts[0], networkConsumers: counts[1],
});
const removed = (e: AdvisoryEvent, counts: [number, number]): AdvisoryEvent => ({ ...e, type: 'ConsumerRemoved', consumers: counts[0], networkConsumers: counts[1] });

const policy = (over: Partial<ForwardingPolicy> = {}): ForwardingPolicy => ({
  source: 'A', sink: 'B', networkTTL: 1, filter: new DestinationFilter([], []), staticallyIncluded: [], sourceKnown: true, ...over,
});

describe('ConsumerTracker', () => {
  it('counts local consumers from the advisories and keeps network consumers with their paths', () => {
    const t = new ConsumerTracker();
    const local = added('/queue/q', 'c1', [1, 0]);
    const net = added('/queue/q', 'n1', [2, 1], ['C']);
    t.apply(local);
    t.apply(net);
    t.apply(net); // a replay of one already known changes nothing
    expect(t.localConsumers('/queue/q')).toBe(1);
    expect([...t.networkPaths('/queue/q')]).toEqual([['C']]);
    t.apply(removed(local, [1, 1]));
    expect(t.localConsumers('/queue/q')).toBe(0);
    t.apply(removed(net, [0, 0]));
    expect([...t.destinations()]).toEqual([]);
  });

  it('reports its bounds instead of growing past them', () => {
    const t = new ConsumerTracker(1, 1);
    expect(t.apply(added('/queue/a', 'c', [1, 0]))).toBeNull();
    expect(t.apply(added('/queue/b', 'c', [1, 0]))).toBe('destinations');
    expect(t.apply(added('/queue/a', 'n1', [2, 1], ['X']))).toBeNull();
    expect(t.apply(added('/queue/a', 'n2', [3, 2], ['Y']))).toBe('network-consumers');
    expect(t.size).toBe(1);
  });

  it('reads the broker\'s advisory headers', () => {
    expect(parseAdvisory({ advisoryType: 'ConsumerAdded', consumerDestination: '/queue/q', consumerId: 'ID:x', consumerCount: '2', networkConsumerCount: '1', networkConsumer: 'true', networkPath: 'B,C' }))
      .toEqual(added('/queue/q', 'ID:x', [2, 1], ['B', 'C']));
    expect(parseAdvisory({ advisoryType: 'Other' })).toBeNull();
    expect(parseAdvisory({ advisoryType: 'ConsumerAdded', consumerDestination: '/queue/q', consumerId: 'x', consumerCount: '1', networkConsumerCount: '2' })).toBeNull();
  });
});

describe('planForwarding', () => {
  it('wants a destination the sink consumes locally, with the sink as its path', () => {
    const sink = new ConsumerTracker();
    sink.apply(added('/queue/q', 'c', [1, 0]));
    sink.apply(added('/topic/t', 'c', [1, 0]));
    const wants = planForwarding(sink, new ConsumerTracker(), policy());
    expect(wants.get('/queue/q')).toEqual({ destination: '/queue/q', path: ['B'], replay: true, static: false });
    // Topics never replay: their messages are copies.
    expect(wants.get('/topic/t')).toEqual({ destination: '/topic/t', path: ['B'], replay: false, static: false });
  });

  it('replays a queue only while the source has no local consumer and its consumers are known', () => {
    const sink = new ConsumerTracker();
    sink.apply(added('/queue/q', 'c', [1, 0]));
    const source = new ConsumerTracker();
    source.apply(added('/queue/q', 'l', [1, 0]));
    expect(planForwarding(sink, source, policy()).get('/queue/q')!.replay).toBe(false);
    expect(planForwarding(sink, new ConsumerTracker(), policy({ sourceKnown: false })).get('/queue/q')!.replay).toBe(false);
  });

  it('follows network demand only within networkTTL and never back through the source', () => {
    const sink = new ConsumerTracker();
    sink.apply(added('/queue/far', 'n1', [1, 1], ['C']));
    sink.apply(added('/queue/back', 'n2', [1, 1], ['A']));
    sink.apply(added('/queue/two', 'n3', [1, 1], ['C', 'D']));
    expect([...planForwarding(sink, new ConsumerTracker(), policy()).keys()]).toEqual([]);
    const wants = planForwarding(sink, new ConsumerTracker(), policy({ networkTTL: 2 }));
    expect([...wants.keys()]).toEqual(['/queue/far']);
    expect(wants.get('/queue/far')).toMatchObject({ path: ['B', 'C'], replay: false });
    expect(planForwarding(sink, new ConsumerTracker(), policy({ networkTTL: 3 })).get('/queue/two')!.path).toEqual(['B', 'C', 'D']);
  });

  it('applies exclusions first, then dynamic inclusions, and adds static inclusions without demand', () => {
    const sink = new ConsumerTracker();
    for (const d of ['/queue/orders.eu', '/queue/orders.secret', '/queue/other', '/topic/prices.eur']) sink.apply(added(d, 'c', [1, 0]));
    const filter = new DestinationFilter(['/queue/*.secret', '/queue/always.no'], ['/queue/orders.>', '/topic/>']);
    const wants = planForwarding(sink, new ConsumerTracker(), policy({ filter, staticallyIncluded: ['/queue/always', '/queue/always.no'] }));
    expect([...wants.keys()].sort()).toEqual(['/queue/always', '/queue/orders.eu', '/topic/prices.eur']);
    expect(wants.get('/queue/always')).toMatchObject({ static: true, replay: false });
    expect(matchesDestination('/topic/>', '/queue/x')).toBe(false);
  });
});

describe('loop guard', () => {
  const passes = (selector: string, headers: Record<string, string>) => compileSelector(selector).matches((n) => headers[n]);

  it('lets a message through while it has hops left and has not been on the sink', () => {
    const s = loopGuardSelector('B', 2);
    expect(passes(s, {})).toBe(true);
    expect(passes(s, { NetworkPath: ',A,', NetworkHops: '1' })).toBe(true);
    expect(passes(s, { NetworkPath: ',A,C,', NetworkHops: '2' })).toBe(false);
    expect(passes(s, { NetworkPath: ',B,', NetworkHops: '1' })).toBe(false);
    expect(passes(s, { NetworkPath: ',BB,', NetworkHops: '1' })).toBe(true);
  });

  it('escapes broker names that LIKE or quotes would misread', () => {
    const s = loopGuardSelector("b_1'%", 5);
    expect(passes(s, { NetworkPath: ",b_1'%,", NetworkHops: '1' })).toBe(false);
    expect(passes(s, { NetworkPath: ",bX1'%,", NetworkHops: '1' })).toBe(true);
  });

  it('rewrites a received MESSAGE into the SEND that forwards it', () => {
    const h = forwardedHeaders([
      ['subscription', 's'], ['message-id', 'ID:A-1'], ['destination', '/queue/q'], ['ack', 'x'], ['redelivered', 'true'],
      ['persistent', 'true'], ['priority', '7'], ['timestamp', '1'], ['expires', '0'], ['amq-producer-id', 'p'], ['amq-producer-seq', '3'],
      ['color', 'red'], ['color', 'blue'], ['NetworkPath', ',X,'], ['NetworkHops', '1'], ['content-length', '2'],
    ], 'A');
    expect({ ...h }).toEqual({ persistent: 'true', priority: '7', color: 'red', NetworkPath: ',X,A,', NetworkHops: '2', NetworkMessageId: 'ID:A-1' });
    expect({ ...forwardedHeaders([['persistent', 'false'], ['expires', '99']], 'A') }).toEqual({ expires: '99', NetworkPath: ',A,', NetworkHops: '1' });
    // Across hops the id the message was first stored under is kept.
    expect(forwardedHeaders([['message-id', 'ID:B-9'], ['NetworkMessageId', 'ID:A-1'], ['NetworkPath', ',A,']], 'B').NetworkMessageId).toBe('ID:A-1');
  });
});
