/** Seeded randomness for sample variation: a small, fast PRNG whose stream is a pure function of (seed, sample). */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 32-bit state for (seed, sample). Seeds are any JSON integers (up to ±2^53); both halves take
 * part so seeds that differ only above bit 32 still give different streams.
 */
function mixSeed(seed: number, sample: number): number {
  const s = Number.isFinite(seed) ? Math.trunc(seed) : 0;
  const neg = s < 0 ? 1 : 0;
  const a = Math.abs(s);
  const lo = a % 0x100000000 >>> 0;
  const hi = Math.floor(a / 0x100000000) >>> 0;
  let h = fmix32(lo ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(hi + neg * 0x7f4a7c15, 0x27d4eb2d));
  h = fmix32(h ^ Math.imul((sample >>> 0) + 1, 0x165667b1));
  return h;
}

/** mulberry32: 32 bits of state, good enough statistics for choosing styles, and cheap. */
function mulberry32(state: number): Rng {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of sample `sample` of a segment seeded with `seed`. */
export function sampleRng(seed: number, sample: number): Rng {
  return mulberry32(mixSeed(seed, sample));
}

/** A uniform draw in [lo, hi). */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** `base` scaled by a factor drawn in [1 − spread, 1 + spread). */
export function jitter(rng: Rng, base: number, spread: number): number {
  return base * (1 + spread * (2 * rng() - 1));
}

/** One of the options, uniformly. */
export function pick<T>(rng: Rng, options: readonly T[]): T {
  return options[Math.min(options.length - 1, Math.floor(rng() * options.length))];
}
