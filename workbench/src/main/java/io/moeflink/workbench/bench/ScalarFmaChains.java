package io.moeflink.workbench.bench;

/** Eight scalar {@code Math.fma} chains, where the JVM has no Vector API. */
final class ScalarFmaChains implements FmaProbe.Chains {
  @Override
  public double run(long iterations, float seed) {
    float m = 1f - seed;
    float a0 = 1f, a1 = 1f, a2 = 1f, a3 = 1f, a4 = 1f, a5 = 1f, a6 = 1f, a7 = 1f;
    for (long i = 0; i < iterations; i++) {
      a0 = Math.fma(m, seed, a0);
      a1 = Math.fma(m, seed, a1);
      a2 = Math.fma(m, seed, a2);
      a3 = Math.fma(m, seed, a3);
      a4 = Math.fma(m, seed, a4);
      a5 = Math.fma(m, seed, a5);
      a6 = Math.fma(m, seed, a6);
      a7 = Math.fma(m, seed, a7);
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  }

  @Override
  public long flopsPerIteration() {
    return 16;
  }

  @Override
  public String description() {
    return "scalar, 8 chains";
  }
}
