/** The logging a bridge does: pino's shape (an object, then a message), so a pino logger fits as it is. */
export interface NetworkLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

/** A logger that drops everything, for a connector started without one. */
export const SILENT_LOGGER: NetworkLogger = Object.freeze({ info: () => {}, warn: () => {}, error: () => {} });
