package io.moeflink.engine.sampling;

/**
 * Counter-based randomness: the uniform number for {@code (seed, position)} is a hash of the two,
 * with no state carried from one draw to the next. A stateful generator would make a token depend
 * on how many draws happened before it, which differs after a failure and re-prefill, or when
 * sequences share a generator; a hash does not.
 *
 * <p>The hash is two rounds of SplitMix64's finalizer (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", 2014): one to spread the seed, one to mix in the position.
 */
final class CounterRandom {

  /** The golden-ratio increment of SplitMix64: consecutive positions land far apart. */
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  /** 2^-53: turns the top 53 bits of a hash into a double in [0, 1). */
  private static final double UNIT = 0x1.0p-53;

  private CounterRandom() {}

  /** A uniform double in [0, 1) determined by {@code seed} and {@code position} alone. */
  static double uniform(long seed, long position) {
    long key = mix(seed ^ GOLDEN_GAMMA);
    long bits = mix(key + GOLDEN_GAMMA * (position + 1));
    return (bits >>> 11) * UNIT;
  }

  /** SplitMix64's output function: a bijection of 64-bit values with good avalanche. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
