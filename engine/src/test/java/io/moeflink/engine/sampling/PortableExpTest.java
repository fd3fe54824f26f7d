package io.moeflink.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PortableExpTest {

  @Test
  void agreesWithStrictMathWithin4e16Relative() {
    Random random = new Random(11);
    for (int i = 0; i < 200_000; i++) {
      double x = i < 100_000 ? -50 * random.nextDouble() : -700 * random.nextDouble();
      double expected = StrictMath.exp(x);
      assertThat(Math.abs(PortableExp.exp(x) - expected))
          .as("exp(%s)", x)
          .isLessThanOrEqualTo(4e-16 * expected);
    }
  }

  @Test
  void handlesTheEdges() {
    assertThat(PortableExp.exp(0.0)).isEqualTo(1.0);
    assertThat(PortableExp.exp(-0.0)).isEqualTo(1.0);
    assertThat(PortableExp.exp(Double.NEGATIVE_INFINITY)).isZero();
    assertThat(PortableExp.exp(-746)).isZero();
    assertThat(PortableExp.exp(-745)).isEqualTo(StrictMath.exp(-745)); // subnormal
    assertThat(PortableExp.exp(-1e-300)).isEqualTo(1.0);
  }

  @Test
  void returnsFixedBits() {
    // Pinned so that a change of the formula, which would change sampled tokens, is noticed.
    assertThat(Double.doubleToLongBits(PortableExp.exp(-1.0))).isEqualTo(Double.doubleToLongBits(0.36787944117144233));
    assertThat(PortableExp.exp(-10.5)).isEqualTo(2.7536449349747158E-5);
  }
}
