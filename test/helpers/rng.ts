export { rng } from '../../src/util/rng.ts'
