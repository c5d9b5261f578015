// Waiting for the event loop in tests that drive async storages step by step.

/** Lets every queued promise continuation and immediate run (microtasks drain fully before the next macrotask). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
