// The options of the PostgreSQL storage, apart from pg's types: the generic layer names them, and
// SQLite users compile without @types/pg.

export interface PostgresOptions {
  /** Create the schema when missing. Default true (false with `readOnly`). */
  create?: boolean
  /**
   * Open read-only: the schema is never created (NotFoundError when missing); commits, pack and file
   * operations fail with ReadOnlyError (EROFS). Reads and pushed notifications work as usual.
   */
  readOnly?: boolean
  /** The SQL schema holding this bigfile database (several may share one PostgreSQL database). Default "bigfile". */
  schema?: string
  /** Connections for loads and commits (the LISTEN connection comes on top). Default 8, at least 2. */
  poolSize?: number
  /** Server-side `statement_timeout` for every statement; 0 = none (default). TimeoutError when hit. */
  statementTimeoutMs?: number
  /** How long to wait for a connection to the server. Default 10 s. */
  connectTimeoutMs?: number
  /** Keep a LISTEN connection for pushed commit notifications (`db.on('commit', …)`). Default true. */
  listen?: boolean
}
