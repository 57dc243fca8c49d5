/**
 * `--destination` as ActiveMQ's command-line tools write it (`queue://ORDERS`, `topic://prices`) or as STOMP
 * does (`/queue/ORDERS`, `/topic/prices`), turned into the STOMP destination the frames carry.
 */
import { invalid, type Setting } from './values.js';

export type DestinationKind = 'queue' | 'topic';

/** A destination the client commands accept. */
export interface DestinationArg {
  readonly kind: DestinationKind;
  /** The STOMP form: `/queue/NAME` or `/topic/NAME`. */
  readonly stomp: string;
}

const FORMS: ReadonlyArray<readonly [prefix: string, kind: DestinationKind]> = Object.freeze([
  ['queue://', 'queue'], ['topic://', 'topic'], ['/queue/', 'queue'], ['/topic/', 'topic'],
]);

/** Parses `--destination`; a missing name or another form is refused with the forms accepted. */
export function destinationArg(value: string, setting: Setting): DestinationArg {
  const form = FORMS.find(([prefix]) => value.startsWith(prefix));
  const name = form === undefined ? '' : value.slice(form[0].length);
  // Whitespace and control characters would travel in a STOMP header; refuse them rather than send a surprise.
  if (form === undefined || name === '' || /[\s\x00-\x1f]/.test(name)) {
    invalid(setting, 'queue://NAME, topic://NAME, /queue/NAME or /topic/NAME', value);
  }
  return Object.freeze({ kind: form[1], stomp: `/${form[1]}/${name}` });
}

/** The same check with a different message when only a queue makes sense (browse). */
export function queueArg(value: string, setting: Setting): DestinationArg {
  const d = destinationArg(value, setting);
  if (d.kind !== 'queue') invalid(setting, 'a queue (queue://NAME or /queue/NAME): only queues can be browsed', value);
  return d;
}
