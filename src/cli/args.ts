// Command-line parsing on node:util parseArgs: every mistake becomes a UsageError (exit 2) that names
// the command, and the values the commands share (sizes, shapes, dtypes) are checked in one place.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'
import { DTYPES, type DType, isDType } from '../array/dtype.ts'
import { UsageError } from './exit.ts'
import { parseSize } from './size.ts'

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  ram: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies ParseArgsOptionsConfig

export interface CommandSpec {
  name: string
  /** Names of the required positionals, in order (for messages). */
  positionals: readonly string[]
  /** Names of optional positionals after the required ones. */
  optional?: readonly string[]
  options: ParseArgsOptionsConfig
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

/** A string option's value (undefined when not given). */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name]
  return typeof v === 'string' ? v : undefined
}

/** Parses `argv` (after the command name) strictly; `undefined` when --help was asked for. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed | undefined {
  const options = { ...spec.options, ...COMMON_OPTIONS }
  let parsed: Parsed
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed
  } catch (e) {
    // A mistake next to -h/--help still shows the help (as parsed: `-qh` asks, `-- --help` does not).
    if (asksHelp(options, argv)) return undefined
    // parseArgs messages carry advice about '--' that does not fit here; keep their first sentence.
    const msg = (e as Error).message.split('. ')[0].replace(/\.$/, '')
    throw new UsageError(`${spec.name}: ${msg} (see bigfile ${spec.name} --help)`)
  }
  if (parsed.values.help === true) return undefined
  const want = spec.positionals
  if (parsed.positionals.length < want.length) {
    const missing = want.slice(parsed.positionals.length).join(' ')
    throw new UsageError(`${spec.name}: missing ${missing} (see bigfile ${spec.name} --help)`)
  }
  const most = want.length + (spec.optional?.length ?? 0)
  if (parsed.positionals.length > most) {
    const extra = parsed.positionals.slice(most).join(' ')
    throw new UsageError(`${spec.name}: unexpected argument ${JSON.stringify(extra)}`)
  }
  return parsed
}

/** Whether the arguments, parsed leniently, contain the help option (not after `--`, not as a value). */
function asksHelp(options: ParseArgsOptionsConfig, argv: readonly string[]): boolean {
  try {
    const { tokens } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: false,
      tokens: true,
    })
    return tokens.some((t) => t.kind === 'option' && t.name === 'help')
  } catch {
    return false
  }
}

/** `1000,64` → [1000, 64]; `(3,)` or `3,` → [3] (NumPy's 1-d tuple); `''` or `()` → [] (a 0-d array). */
export function parseShape(text: string): number[] {
  const t = text
    .trim()
    .replace(/^\(|\)$/g, '')
    .trim()
  if (t === '') return []
  const bad = () => new UsageError(`--shape: ${JSON.stringify(text)} is not a list of sizes like 1000,64`)
  // One trailing comma is allowed, as in NumPy's `(3,)`; `,` alone or `3,,` is not.
  const body = t.replace(/,\s*$/, '')
  if (body === '') throw bad()
  return body.split(/[,x]/).map((s) => {
    const v = s.trim()
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad()
    return Number(v)
  })
}

export function parseDType(text: string): DType {
  if (isDType(text)) return text
  throw new UsageError(`--dtype: unknown dtype ${JSON.stringify(text)} (one of ${DTYPES.join(', ')})`)
}

export function parseOrder(text: string | undefined): 'C' | 'F' {
  if (text === undefined || text === 'C' || text === 'c') return 'C'
  if (text === 'F' || text === 'f') return 'F'
  throw new UsageError(`--order: must be C or F, got ${JSON.stringify(text)}`)
}

/** A power-of-two block size from 512 B to 16 MiB (the RAM's page size follows it). */
export function parseBlksize(text: string): number {
  const b = parseSize(text, '--blksize')
  if (b < 512 || b > 16 << 20 || (b & (b - 1)) !== 0) {
    throw new UsageError(`--blksize: must be a power of two from 512 B to 16 MiB, got ${text}`)
  }
  return b
}

export function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what}: not a non-negative integer: ${JSON.stringify(text)}`)
  }
  return Number(text)
}

export const DEFAULT_RAM = 256 << 20

/** The --ram budget in bytes. */
export function parseRam(text: string | undefined, fallback = DEFAULT_RAM): number {
  if (text === undefined) return fallback
  const b = parseSize(text, '--ram')
  if (b < 64 << 10) throw new UsageError(`--ram: at least 64KiB, got ${text}`)
  return b
}
