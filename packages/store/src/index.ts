/** @mini-amq/store: the durable log (LevelStore), its in-memory twin (MemoryStore) and their contract. */
export type * from './types.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { LevelStore, type LevelStoreOptions } from './level-store.js';
export { MemoryStore, MemoryVolume, type MemoryStoreOptions } from './memory-store.js';
export {
  BATCH_BYTES_MAX,
  BATCH_ENTRIES_MAX,
  EXPORT_CHUNK_BYTES,
  LOG_TAIL_ENTRIES_MAX,
  PRIORITY_MAX,
  PRODUCER_ID_BYTES_MAX,
  PRODUCER_WINDOWS_MAX,
  QUEUE_NAME_BYTES_MAX,
} from './limits.js';
