// MemoryStore, the in-memory twin broker protocol tests use, held to the same contract as LevelStore by
// running the shared conformance suite; a directory name maps to a MemoryVolume, so "reopen" is a restart.
// Through the package entry point, as the broker's tests will import it.
import { MemoryStore, MemoryVolume } from '../src/index.js';
import { storeSuite } from './store-suite.js';

const volumes = new Map<string, MemoryVolume>();

storeSuite(
  'MemoryStore',
  (dir, opts) => {
    let volume = volumes.get(dir);
    if (volume === undefined) volumes.set(dir, (volume = new MemoryVolume()));
    return new MemoryStore({ volume, ...opts });
  },
  { breakWrites: (store) => (store as MemoryStore).injectWriteFailure(new Error('injected disk failure')) },
);
