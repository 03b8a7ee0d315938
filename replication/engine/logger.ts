// The logging port: the subset of pino's Logger the replication layer uses; a pino logger fits.

export interface ReplicationLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const ignore = () => {};

/** Used when no logger is injected: library code never writes to the console. */
export const silentLogger: ReplicationLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
