// Command-line parsing on node:util parseArgs: every mistake becomes a UsageError (exit 2) that names
// the command, and the values the commands share (sizes, shapes, dtypes) are checked in one place.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'
import { type DType, dtypeOf } from '../array/dtype.ts'
import { InvalidArgumentError } from '../errors.ts'
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
    const args = negativesAsPositionals(options, attachDashValues(options, argv))
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed
  } catch (e) {
    // A mistake next to -h/--help still shows the help (as parsed: `-qh` asks, `-- --help` does not).
    if (asksHelp(options, argv)) return undefined
    throw new UsageError(`${spec.name}: ${parseArgsMessage(e)} (see bigfile ${spec.name} --help)`)
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

/**
 * `--keep -1` → `--keep=-1`: a string option takes the next argument as its value even when it starts
 * with `-` (as getopt does), unless that argument is itself one of the options. parseArgs would refuse
 * it as ambiguous; the command's own check then says what is wrong with the value.
 */
function attachDashValues(options: ParseArgsOptionsConfig, argv: readonly string[]): string[] {
  const longs = new Set(Object.keys(options).map((n) => `--${n}`))
  const shorts = new Set(Object.values(options).flatMap((o) => (o.short ? [`-${o.short}`] : [])))
  const isOption = (a: string) => longs.has(a.split('=')[0]) || shorts.has(a.slice(0, 2))
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      out.push(...argv.slice(i))
      break
    }
    const next = argv[i + 1]
    const o = a.startsWith('--') ? options[a.slice(2)] : undefined
    if (o?.type === 'string' && next?.startsWith('-') && next !== '--' && !isOption(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/**
 * `show DB NAME -1` → `show DB NAME -- -1`: an argument like a negative number (`-1`, `-3:`) is a
 * positional, since no option here is a digit. Every positional moves after a `--`, in order.
 */
function negativesAsPositionals(options: ParseArgsOptionsConfig, args: string[]): string[] {
  const negative = /^-\d/
  if (!args.some((a) => negative.test(a)) || args.includes('--')) return args
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true })
  const positional = new Set<number>()
  for (const t of tokens) {
    if (t.kind === 'positional') positional.add(t.index)
    // strict: false reads `-1` as the options 1 (or 1, :, 3, ...): the whole argument is a positional.
    else if (t.kind === 'option' && negative.test(args[t.index])) positional.add(t.index)
  }
  const rest = args.filter((_, i) => !positional.has(i))
  return [...rest, '--', ...args.filter((_, i) => positional.has(i))]
}

/** One line for a parseArgs error: its first sentence, without the advice about '--' that does not fit. */
function parseArgsMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  const ambiguous = /^Option '(--?[^']+)' argument is ambiguous/.exec(msg)
  if (ambiguous) return `${ambiguous[1]} needs a value`
  const missing = /^Option '(?:-\w, )?(--[^' ]+) <value>' argument missing/.exec(msg)
  if (missing) return `${missing[1]} needs a value`
  return msg.split(/\.\s/)[0].replace(/\.$/, '').replace(/\s+/g, ' ')
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

/** A dtype name or NumPy code (`float64`, `f8`, `<f8`); the error lists what is supported. */
export function parseDType(text: string): DType {
  try {
    return dtypeOf(text)
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new UsageError(`--dtype: ${e.message}`)
    throw e
  }
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
