// The bad-input corpus (issue 11): malformed .npy files, command lines, hostile paths and API misuse,
// each with the typed error code or exit code it must give. Generated from a fixed seed, so a run is
// reproducible: hand-written cases for every rule, then seeded variations of each kind.
//
//   node test/corpus/generate.ts [DIR]   writes the .npy cases to DIR and prints the counts
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DTYPES } from '../../src/array/dtype.ts'
import { rng } from '../../src/util/rng.ts'
import { npyBytes } from '../array/npy-bytes.ts'

export const SEED = 0x11c0de

/** A .npy file and what importNpy must do with it: import it, or refuse with this code. */
export interface NpyCase {
  id: string
  bytes: Uint8Array
  expect: 'ok' | 'ECORRUPT' | 'EINVAL'
  /** From a stream the size is not known up front: a shape too big to map is refused when creating. */
  streamExpect?: 'EINVAL'
}

/** What a CLI case's directory holds before the command runs (the database d.db has array `a`). */
export type Plant =
  | { db: string }
  | { file: string; text: string }
  | { fifo: string }
  | { device: string }
  | { dir: string }
  | { symlink: string; to: string }
  /** A copy of the planted database cut to `bytes` (a damaged database). */
  | { truncatedDb: string; bytes: number }

/**
 * A command line run in a fresh directory (`@x` is the path of x in it) and its exit code. Afterwards the
 * directory holds exactly what was planted plus `creates`: a failed command leaves nothing behind.
 */
export interface CliCase {
  id: string
  plant: Plant[]
  args: string[]
  exit: number
  creates?: string[]
}

const DICT = (shape: string, descr = "'<f8'", fortran = 'False') =>
  `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`

/** Hand-written header texts NumPy (or Python 3's literal syntax) refuses. */
const BAD_HEADERS: [string, string][] = [
  ['hex', DICT('(0x1e,)')],
  ['octal', DICT('(0o7,)')],
  ['leading-zero', DICT('(030,)')],
  ['minus-zero', DICT('(-0, 30)')],
  ['negative', DICT('(-3,)')],
  ['plus', DICT('(+3,)')],
  ['float', DICT('(3.0,)')],
  ['exp', DICT('(1e3,)')],
  ['underscore', DICT('(1_000,)')],
  ['empty-comma', DICT('(,)')],
  ['double-comma', DICT('(30,,)')],
  ['leading-comma', DICT('(,30)')],
  ['unclosed-tuple', DICT('(30,')],
  ['not-a-tuple', DICT('30')],
  ['paren-int', DICT('(30)')],
  ['list-shape', DICT('[30]')],
  ['bool-in-shape', DICT('(True,)')],
  ['str-in-shape', DICT("('30',)")],
  ['none-shape', DICT('None')],
  ['huge-int', DICT('(123456789012345678901234567890,)')],
  ['not-a-dict-list', "[('descr', '<f8')]"],
  ['not-a-dict-str', "'descr'"],
  ['not-a-dict-int', '42'],
  ['empty-dict', '{}'],
  ['missing-shape', "{'descr': '<f8', 'fortran_order': False}"],
  ['missing-descr', "{'fortran_order': False, 'shape': (1,)}"],
  ['missing-fortran', "{'descr': '<f8', 'shape': (1,)}"],
  ['extra-key', DICT('(1,)').replace('}', "'x': 1, }")],
  ['forged-note', `{'note': "'shape': (30,)", 'descr': '<f8', 'fortran_order': False, 'shape': (10, 3)}`],
  ['duplicate-shape', "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'shape': (2,)}"],
  ['int-key', "{1: 2, 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}"],
  ['fortran-int', DICT('(1,)', "'<f8'", '0')],
  ['fortran-str', DICT('(1,)', "'<f8'", "'False'")],
  ['fortran-lower', DICT('(1,)', "'<f8'", 'false')],
  ['descr-int', DICT('(1,)', '8')],
  ['descr-garbage', DICT('(1,)', "'<x9'")],
  ['descr-empty', DICT('(1,)', "''")],
  ['descr-long', DICT('(1,)', "'<f8f8'")],
  ['comment', `${DICT('(1,)')} # hi`],
  ['trailing-dict', `${DICT('(1,)')} {}`],
  ['unterminated-str', "{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}"],
  ['bad-escape', "{'descr': '<f8\\q', 'fortran_order': False, 'shape': (1,)}"],
  ['colon-missing', "{'descr' '<f8', 'fortran_order': False, 'shape': (1,)}"],
  ['set', "{'descr', 'fortran_order', 'shape'}"],
  ['call', "dict(descr='<f8', fortran_order=False, shape=(1,))"],
  ['nested-deep', `{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(40)}1,${')'.repeat(40)}}`],
  ['nul', `${DICT('(1,)')}\0`],
  ['nul-in-str', "{'descr': '<f\u00008', 'fortran_order': False, 'shape': (1,)}"],
]

/** Dtypes NumPy has and bigfile does not: EINVAL naming the dtype, not "not a valid .npy file". */
const UNSUPPORTED = [
  "'<c8'",
  "'<c16'",
  "'|b1'",
  "'<U5'",
  "'|S7'",
  "'|V8'",
  "'|O'",
  "'<M8[ns]'",
  "'<m8[s]'",
  "'<f16'",
  "'<i16'",
  "[('a', '<i4')]",
]

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])

function npyOf(
  dtype: string,
  shape: number[],
  itemsize: number,
  r: () => number,
  fortran = false,
): Uint8Array {
  const n = shape.reduce((x, y) => x * y, 1)
  const data = new Uint8Array(n * itemsize)
  for (let i = 0; i < data.length; i++) data[i] = (r() * 256) | 0
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  return npyBytes(DICT(tuple, `'${dtype}'`, fortran ? 'True' : 'False'), data)
}

/** Little-endian (or byte-order-free) NumPy codes of the dtypes bigfile imports, with item sizes. */
const NPY_DTYPES: [string, number][] = DTYPES.filter((d) => d !== 'float16').map((d) => {
  const size = Number(d.slice(d.search(/\d/))) / 8
  return [`${size === 1 ? '|' : '<'}${d[0] === 'u' ? 'u' : d[0] === 'f' ? 'f' : 'i'}${size}`, size]
})

/** Every .npy case: hand-written refusals, unsupported dtypes, then seeded valid files and mutations of them. */
export function npyCases(seed = SEED): NpyCase[] {
  const r = rng(seed)
  const int = (n: number) => Math.floor(r() * n)
  const out: NpyCase[] = []
  for (const [id, text] of BAD_HEADERS) {
    out.push({ id: `header-${id}`, bytes: npyBytes(text, new Uint8Array(8)), expect: 'ECORRUPT' })
  }
  out.push({ id: 'header-L-in-v3', bytes: npyBytes(DICT('(1L,)'), new Uint8Array(8), 3), expect: 'ECORRUPT' })
  out.push({ id: 'header-L-in-v1', bytes: npyBytes(DICT('(1L,)'), new Uint8Array(8), 1), expect: 'ok' })
  for (const d of UNSUPPORTED)
    out.push({
      id: `dtype-${d.replace(/\W/g, '')}`,
      bytes: npyBytes(DICT('(1,)', d), new Uint8Array(16)),
      expect: 'EINVAL',
    })
  // Format 2.0 written, 1 claimed (and the reverse): the length field is misread.
  const v2 = npyBytes(DICT('(2,)'), new Uint8Array(16), 2)
  out.push({ id: 'v2-valid', bytes: v2, expect: 'ok' })
  const v2as1 = Buffer.from(v2)
  v2as1[6] = 1
  out.push({ id: 'v2-says-1', bytes: v2as1, expect: 'ECORRUPT' })
  const v1as2 = Buffer.from(npyBytes(DICT('(2,)'), new Uint8Array(16), 1))
  v1as2[6] = 2
  out.push({ id: 'v1-says-2', bytes: v1as2, expect: 'ECORRUPT' })
  for (const [id, bytes] of [
    ['empty', new Uint8Array(0)],
    ['magic-only', MAGIC],
    ['no-length', Buffer.concat([MAGIC, Buffer.from([1, 0])])],
    ['text', Buffer.from('not numpy at all, not even close')],
  ] as const)
    out.push({ id: `short-${id}`, bytes, expect: 'ECORRUPT' })
  const huge = (shape: string) => npyBytes(DICT(shape, "'|u1'"), new Uint8Array(8))
  // 2^52 bytes can be mapped (the page table is sparse): from a stream, too, it ends as a truncated file.
  out.push({ id: 'size-2^52', bytes: huge('(4503599627370496,)'), expect: 'ECORRUPT' })
  out.push({ id: 'size-overflow', bytes: huge('(4503599627370496, 4503599627370496)'), expect: 'ECORRUPT' })
  out.push({ id: 'size-1TiB', bytes: huge('(1048576, 1048576)'), expect: 'ECORRUPT' })

  // Seeded: a valid file of random dtype/shape/order, and mutations whose outcome is known by construction.
  for (let k = 0; k < 40; k++) {
    const [base, itemsize] = NPY_DTYPES[int(NPY_DTYPES.length)]
    const dtype = itemsize > 1 && r() < 0.5 ? `>${base.slice(1)}` : base
    const shape = Array.from({ length: int(4) }, () => int(6))
    const good = npyOf(dtype, shape, itemsize, r, r() < 0.3)
    const n = shape.reduce((x, y) => x * y, 1)
    const hlen = good.length - n * itemsize
    out.push({ id: `seed${k}-valid`, bytes: good, expect: 'ok' })
    // Truncated anywhere: in the preamble, the header or the data.
    const cut = int(good.length)
    out.push({ id: `seed${k}-cut${cut}`, bytes: good.subarray(0, cut), expect: 'ECORRUPT' })
    // Trailing bytes.
    const extra = new Uint8Array(1 + int(itemsize * 3))
    out.push({
      id: `seed${k}-trailing${extra.length}`,
      bytes: Buffer.concat([good, extra]),
      expect: 'ECORRUPT',
    })
    // A NUL in the header text (before the newline that ends it).
    const nul = Buffer.from(good)
    nul[10 + int(hlen - 11)] = 0
    out.push({ id: `seed${k}-nul`, bytes: nul, expect: 'ECORRUPT' })
    // A broken magic byte, an unknown version.
    const magic = Buffer.from(good)
    magic[int(6)] ^= 1 << int(8)
    out.push({ id: `seed${k}-magic`, bytes: magic, expect: 'ECORRUPT' })
    const ver = Buffer.from(good)
    ver[6] = [0, 4, 9, 255][int(4)]
    out.push({ id: `seed${k}-version${ver[6]}`, bytes: ver, expect: 'ECORRUPT' })
    // A header length pointing past the end of the file or past NumPy's limit.
    const len = Buffer.from(good)
    len.writeUInt16LE(hlen + 1 + int(60000), 8)
    out.push({ id: `seed${k}-hlen`, bytes: len, expect: 'ECORRUPT' })
    // One element more or fewer than the data (when there is data).
    if (n > 0) {
      const bigger = shape.length ? [...shape.slice(0, -1), (shape.at(-1) as number) + 1] : [2]
      const tuple = bigger.length === 1 ? `(${bigger[0]},)` : `(${bigger.join(', ')})`
      const lying = npyBytes(DICT(tuple, `'${dtype}'`), good.subarray(hlen))
      out.push({ id: `seed${k}-shape-lies`, bytes: lying, expect: 'ECORRUPT' })
    }
    // A bad token spliced into the shape tuple.
    const tokens = ['0x1', '-1', '+1', '1.5', '01', ',', '1,,', 'None', 'True', "'1'", '1e1', '[1]', '1_0']
    const tok = tokens[int(tokens.length)]
    out.push({
      id: `seed${k}-token-${tok.replace(/\W/g, '_')}`,
      bytes: npyBytes(DICT(`(${tok}, 2)`, `'${dtype}'`), new Uint8Array(2 * itemsize)),
      expect: 'ECORRUPT',
    })
  }
  return out
}

const DB: Plant = { db: 'd.db' }

/** Command lines: usage mistakes (seeded), missing things, conflicts, and hostile export targets. */
export function cliCases(seed = SEED): CliCase[] {
  const r = rng(seed ^ 0x5eed)
  const int = (n: number) => Math.floor(r() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
  const out: CliCase[] = []
  const create = (db: string, ...more: string[]) => [
    'create',
    db,
    'b',
    '--dtype',
    'uint8',
    '--shape',
    '4',
    ...more,
  ]

  // Usage errors on a database that does not exist: exit 2 and no database created.
  const badShapes = [
    ',',
    '3,,',
    '(,)',
    '3,,4',
    '-1',
    '1.5',
    'abc',
    '1e3',
    '99999999999,99999999999',
    String(2 ** 53),
    '3;4',
  ]
  for (const s of badShapes)
    out.push({
      id: `shape-${JSON.stringify(s)}`,
      plant: [],
      args: ['create', '@new.db', 'b', '--dtype', 'uint8', '--shape', s],
      exit: 2,
    })
  const alphabet = 'abcxyz0123456789<>|=_-.,;:()[]{}'
  for (let k = 0; k < 12; k++) {
    const junk = `zz${Array.from({ length: 1 + int(8) }, () => pick([...alphabet])).join('')}`
    out.push({
      id: `dtype-${junk}`,
      plant: [],
      args: ['create', '@new.db', 'b', '--dtype', junk, '--shape', '4'],
      exit: 2,
    })
    const shape = `${1 + int(9)}${pick([',,', ';', 'x,', ',-', '.'])}${int(9)}`
    out.push({
      id: `shape-seed-${shape}`,
      plant: [],
      args: ['create', '@new.db', 'b', '--dtype', 'uint8', '--shape', shape],
      exit: 2,
    })
    const blk = pick([
      String(513 + 2 * int(500)),
      `${3 + 2 * int(5)}KiB`,
      '256',
      '32MiB',
      `${int(9)}QiB`,
      '-4KiB',
    ])
    out.push({ id: `blksize-${blk}`, plant: [], args: [...create('@new.db'), '--blksize', blk], exit: 2 })
    const ram = pick([`${1 + int(60)}KiB`, 'lots', '-1MiB', '1.5.5MiB', `${int(9)}XB`])
    out.push({ id: `ram-${ram}`, plant: [], args: [...create('@new.db'), '--ram', ram], exit: 2 })
  }
  out.push({
    id: 'name-empty',
    plant: [],
    args: ['create', '@new.db', '', '--dtype', 'uint8', '--shape', '4'],
    exit: 2,
  })
  out.push({
    id: 'name-1025',
    plant: [],
    args: ['create', '@new.db', 'n'.repeat(1025), '--dtype', 'uint8', '--shape', '4'],
    exit: 2,
  })
  out.push({
    id: 'name-lone-surrogate',
    plant: [],
    args: ['create', '@new.db', 'a\ud800', '--dtype', 'uint8', '--shape', '4'],
    exit: 2,
  })
  out.push({ id: 'no-dtype', plant: [], args: ['create', '@new.db', 'b', '--shape', '4'], exit: 2 })
  out.push({ id: 'no-shape', plant: [], args: ['create', '@new.db', 'b', '--dtype', 'uint8'], exit: 2 })
  out.push({ id: 'bad-order', plant: [], args: [...create('@new.db'), '--order', 'Z'], exit: 2 })
  out.push({ id: 'unknown-option', plant: [], args: [...create('@new.db'), '--frobnicate'], exit: 2 })
  out.push({ id: 'unknown-command', plant: [], args: ['frobnicate', '@new.db'], exit: 2 })
  out.push({ id: 'missing-args', plant: [], args: ['create', '@new.db'], exit: 2 })
  out.push({ id: 'extra-arg', plant: [DB], args: ['rm', '@d.db', 'a', 'b'], exit: 2 })
  out.push({
    id: 'import-raw-no-dtype',
    plant: [{ file: 'in.raw', text: 'abcd' }],
    args: ['import', '@new.db', 'b', '@in.raw'],
    exit: 2,
  })
  out.push({
    id: 'import-raw-bad-shape',
    plant: [{ file: 'in.raw', text: 'abcd' }],
    args: ['import', '@new.db', 'b', '@in.raw', '--dtype', 'uint8', '--shape', '5'],
    exit: 2,
  })
  out.push({
    id: 'import-raw-partial-elem',
    plant: [{ file: 'in.raw', text: 'abc' }],
    args: ['import', '@new.db', 'b', '@in.raw', '--dtype', 'uint16'],
    exit: 2,
  })
  out.push({
    id: 'import-bad-format',
    plant: [{ file: 'in.raw', text: 'abcd' }],
    args: ['import', '@new.db', 'b', '@in.raw', '--format', 'csv'],
    exit: 2,
  })
  out.push({
    id: 'import-npy-with-dtype',
    plant: [{ file: 'in.npy', text: 'x' }],
    args: ['import', '@new.db', 'b', '@in.npy', '--dtype', 'uint8'],
    exit: 2,
  })
  out.push({
    id: 'import-bad-npy',
    plant: [{ file: 'in.npy', text: 'not numpy' }],
    args: ['import', '@new.db', 'b', '@in.npy'],
    exit: 1,
  })
  out.push({
    id: 'import-dir',
    plant: [{ dir: 'in' }],
    args: ['import', '@new.db', 'b', '@in', '--dtype', 'uint8'],
    exit: 2,
  })
  out.push({
    id: 'import-missing',
    plant: [],
    args: ['import', '@new.db', 'b', '@nope.raw', '--dtype', 'uint8'],
    exit: 3,
  })
  out.push({
    id: 'import-name-exists',
    plant: [DB, { file: 'in.raw', text: 'abcd' }],
    args: ['import', '@d.db', 'a', '@in.raw', '--dtype', 'uint8'],
    exit: 4,
  })

  // Missing things: exit 3, nothing created.
  for (const cmd of [['ls'], ['info', 'a'], ['rm', 'a'], ['stats'], ['export', 'a', '@o.npy']])
    out.push({ id: `missing-db-${cmd[0]}`, plant: [], args: [cmd[0], '@nope.db', ...cmd.slice(1)], exit: 3 })
  out.push({ id: 'missing-name-info', plant: [DB], args: ['info', '@d.db', 'zz'], exit: 3 })
  out.push({ id: 'missing-name-rm', plant: [DB], args: ['rm', '@d.db', 'zz'], exit: 3 })
  out.push({ id: 'missing-name-export', plant: [DB], args: ['export', '@d.db', 'zz', '@o.npy'], exit: 3 })
  out.push({ id: 'export-missing-dir', plant: [DB], args: ['export', '@d.db', 'a', '@no/o.npy'], exit: 3 })
  out.push({
    id: 'export-dir-is-file',
    plant: [DB, { file: 'f', text: '' }],
    args: ['export', '@d.db', 'a', '@f/o.npy'],
    exit: 2,
  })
  out.push({
    id: 'create-exists',
    plant: [DB],
    args: ['create', '@d.db', 'a', '--dtype', 'uint8', '--shape', '4', '--blksize', '16MiB'],
    exit: 4,
  })

  // Hostile export targets: without --force every existing thing is "exists" (4), with --force only
  // a regular file is replaced and anything else is a usage error (2); the thing is never touched.
  const hostile: [string, Plant[]][] = [
    [
      'symlink',
      [
        { file: 'victim', text: 'precious' },
        { symlink: 'o.npy', to: 'victim' },
      ],
    ],
    ['dangling', [{ symlink: 'o.npy', to: 'nowhere' }]],
    ['fifo', [{ fifo: 'o.npy' }]],
    ['device', [{ device: 'o.npy' }]],
    ['dir', [{ dir: 'o.npy' }]],
  ]
  for (const [what, plants] of hostile) {
    out.push({
      id: `export-${what}`,
      plant: [DB, ...plants],
      args: ['export', '@d.db', 'a', '@o.npy'],
      exit: 4,
    })
    out.push({
      id: `export-force-${what}`,
      plant: [DB, ...plants],
      args: ['export', '@d.db', 'a', '@o.npy', '--force'],
      exit: 2,
    })
  }
  out.push({
    id: 'export-file',
    plant: [DB, { file: 'o.npy', text: 'theirs' }],
    args: ['export', '@d.db', 'a', '@o.npy'],
    exit: 4,
  })
  out.push({
    id: 'export-force-file',
    plant: [DB, { file: 'o.npy', text: 'old' }],
    args: ['export', '@d.db', 'a', '@o.npy', '--force'],
    exit: 0,
  })
  // Things planted at temporary names (the old pid-based one, and look-alikes): never written through.
  out.push({
    id: 'export-planted-partials',
    plant: [
      DB,
      { file: 'victim', text: 'precious' },
      { symlink: `o.npy.partial-${process.pid}`, to: 'victim' },
      { fifo: 'o.npy.partial-0' },
      { dir: 'o.npy.partial-' },
    ],
    args: ['export', '@d.db', 'a', '@o.npy'],
    exit: 0,
    creates: ['o.npy'],
  })
  // Hostile database paths: not a regular file is a usage error, nothing created next to it.
  for (const [what, plant] of [
    ['fifo', { fifo: 'x.db' }],
    ['device', { device: 'x.db' }],
    ['dir', { dir: 'x.db' }],
  ] as const) {
    out.push({ id: `db-${what}-create`, plant: [plant], args: create('@x.db'), exit: 2 })
    out.push({ id: `db-${what}-ls`, plant: [plant], args: ['ls', '@x.db'], exit: 2 })
  }
  out.push({
    id: 'db-garbage',
    plant: [{ file: 'x.db', text: 'this is not an SQLite database, not at all.'.repeat(4) }],
    args: ['ls', '@x.db'],
    exit: 1,
  })
  // Damaged databases (cut at a seeded length inside the header page or after it, within the template's
  // ~40 KB of 4 KiB pages): exit 1, untouched.
  for (let k = 0; k < 4; k++) {
    const bytes = k < 2 ? 1 + int(99) : 100 + int(30000)
    out.push({
      id: `db-truncated-${bytes}`,
      plant: [{ truncatedDb: 'x.db', bytes }],
      args: ['ls', '@x.db'],
      exit: 1,
    })
    out.push({
      id: `db-truncated-${bytes}-create`,
      plant: [{ truncatedDb: 'x.db', bytes }],
      args: create('@x.db'),
      exit: 1,
    })
  }
  return out
}

if (import.meta.main) {
  const dir = process.argv[2]
  const npy = npyCases()
  if (dir) {
    mkdirSync(dir, { recursive: true })
    for (const c of npy) writeFileSync(join(dir, `${c.id}.${c.expect}.npy`), c.bytes)
  }
  console.log(`seed ${SEED}: ${npy.length} .npy cases, ${cliCases().length} command lines`)
}
