// LevelStore through the shared conformance suite, on real directories; its write failure is made by closing
// the LevelDB handle under it. What only a disk store has (batch splitting, corruption, crashes) is in
// level-store-disk.test.ts and level-store-crash.test.ts.
import { LevelStore } from '../src/level-store.js';
import { storeSuite } from './store-suite.js';

storeSuite('LevelStore', (dir, opts) => new LevelStore({ directory: dir, ...opts }), {
  breakWrites: (store) => {
    void (store as unknown as { db: { close(): Promise<void> } }).db.close();
  },
});
