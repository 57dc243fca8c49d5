import { expect } from 'vitest';
import { StompError } from '../src/errors.js';

/**
 * The StompError `p` rejects with. Call it as soon as `p` exists: a promise that rejects while the
 * test awaits something else would otherwise count as an unhandled rejection.
 */
export async function rejection(p: Promise<unknown>): Promise<StompError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StompError);
    return err as StompError;
  }
  throw new Error('expected a rejection');
}
