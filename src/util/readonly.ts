// TypeScript's `readonly` is a compile-time promise only: a JavaScript caller (or a cast) could still
// assign `fh.blksize = 16` and the next load would read another page's bytes. Public readonly fields of
// exported classes are made non-writable and non-configurable at the end of their constructor, so such
// an assignment throws a TypeError (ES modules are strict). Reads stay plain field loads: V8 keeps the
// object in fast mode with one shared map (measured on the hit path: bench/hit.bench.ts).

/** Makes each named own field of `obj` non-writable and non-configurable (its value stays as it is). */
export function readonlyFields<T extends object>(obj: T, keys: readonly (keyof T & string)[]): void {
  for (const k of keys) Object.defineProperty(obj, k, { writable: false, configurable: false })
}
