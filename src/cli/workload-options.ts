// The options `bigfile demo` and `bigfile bench` share: how much data, in which blocks, filled how many
// bytes per commit, how many random changes, within which RAM.
import type { RAM } from '../virtmem/ram.ts'
import { type Parsed, parseBlksize, parseCount, parseRam, str } from './args.ts'
import { COMMON_HELP } from './command.ts'
import { UsageError } from './exit.ts'
import { makeRam, pagesizeFor } from './session.ts'
import { parseSize } from './size.ts'
import { fitChunk } from './workload.ts'

export const MiB = 1 << 20

export const WORKLOAD_OPTIONS = {
  data: { type: 'string' },
  blksize: { type: 'string' },
  chunk: { type: 'string' },
  changes: { type: 'string' },
} as const

/** The commands' RAM budget by default: 128 MiB, smaller than the data so that pages must be reclaimed. */
export const WORKLOAD_RAM = 128 * MiB

/** The common options' help with that default. */
export const WORKLOAD_COMMON_HELP = COMMON_HELP.replace('(default 256MiB)', '(default 128MiB)')

export interface Workload {
  /** Bytes of float64 data, a positive multiple of 8. */
  data: number
  blksize: number
  /** Bytes filled per commit, fitted to the RAM. */
  chunk: number
  changes: number
  ram: RAM
}

export function parseWorkload(p: Parsed, defaultData: string): Workload {
  const data = parseSize(str(p, 'data') ?? defaultData, '--data')
  if (data < 8 || data % 8 !== 0) throw new UsageError('--data must be a positive multiple of 8 bytes')
  const blksize = parseBlksize(str(p, 'blksize') ?? '64KiB')
  const chunkOpt = parseSize(str(p, 'chunk') ?? '32MiB', '--chunk')
  const changes = parseCount(str(p, 'changes') ?? '1000', '--changes')
  const ram = makeRam(parseRam(str(p, 'ram'), WORKLOAD_RAM), pagesizeFor(blksize))
  return { data, blksize, chunk: fitChunk(chunkOpt, ram), changes, ram }
}

/** A byte count rounded to whole MiB, for RSS figures. */
export function roundMiB(bytes: number): number {
  return Math.round(bytes / MiB) * MiB
}
