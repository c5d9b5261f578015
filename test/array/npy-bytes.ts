// .npy files written by hand, for tests of the header parser and of imports.

/** An .npy file: preamble of `major`, header text padded to 64 bytes with a final newline, then data. */
export function npyBytes(dict: string, data: Uint8Array = new Uint8Array(0), major = 1): Buffer {
  const pre = major === 1 ? 10 : 12
  const text = Buffer.from(dict, major === 3 ? 'utf8' : 'latin1')
  const total = Math.ceil((pre + text.length + 1) / 64) * 64
  const head = Buffer.alloc(total, 0x20)
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0])
  if (major === 1) head.writeUInt16LE(total - pre, 8)
  else head.writeUInt32LE(total - pre, 8)
  head.set(text, pre)
  head[total - 1] = 0x0a
  return Buffer.concat([head, data])
}
