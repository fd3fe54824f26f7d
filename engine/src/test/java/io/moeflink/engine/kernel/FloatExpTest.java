package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FloatExpTest {

  /** Ulps of {@code actual} from {@code exact}, in units of the float ulp at {@code exact}. */
  private static double ulps(float actual, double exact) {
    return Math.abs(actual - exact) / Math.ulp((float) exact);
  }

  /**
   * Within an ulp of {@code e^x} over its range, here on every 127th float (every float was
   * checked once by hand: at most 0.94 ulps); a wrong coefficient or a lost {@code ln 2} part
   * misses by far more.
   */
  @Test
  void isWithinAnUlpOverItsRange() {
    double worst = 0;
    for (float bound : new float[] {FloatExp.LOW, FloatExp.HIGH}) {
      int last = Float.floatToRawIntBits(bound);
      for (int bits = Float.floatToRawIntBits(bound < 0 ? -0f : 0f); Integer.compareUnsigned(bits, last) <= 0;
          bits += 127) {
        float x = Float.intBitsToFloat(bits);
        worst = Math.max(worst, ulps(FloatExp.exp(x), Math.exp(x)));
      }
    }
    assertThat(worst).isLessThan(1);
  }

  /** Past the range: 0 below, infinity above, NaN kept; the exact values at its ends. */
  @Test
  void endsOfTheRange() {
    assertThat(FloatExp.exp(0f)).isEqualTo(1f);
    assertThat(FloatExp.exp(-0f)).isEqualTo(1f);
    assertThat(FloatExp.exp(Math.nextDown(FloatExp.LOW))).isZero();
    assertThat(FloatExp.exp(-1000f)).isZero();
    assertThat(FloatExp.exp(Float.NEGATIVE_INFINITY)).isZero();
    assertThat(FloatExp.exp(Math.nextUp(FloatExp.HIGH))).isInfinite();
    assertThat(FloatExp.exp(Float.POSITIVE_INFINITY)).isInfinite();
    assertThat(FloatExp.exp(Float.NaN)).isNaN();
    assertThat((double) FloatExp.exp(FloatExp.LOW)).isCloseTo(Math.exp(FloatExp.LOW), org.assertj.core.data.Percentage
        .withPercentage(1e-4));
    assertThat((double) FloatExp.exp(FloatExp.HIGH)).isCloseTo(Math.exp(FloatExp.HIGH), org.assertj.core.data.Percentage
        .withPercentage(1e-4));
    assertThat(FloatExp.exp(FloatExp.LOW)).isGreaterThanOrEqualTo(Float.MIN_NORMAL);
    assertThat(FloatExp.exp(FloatExp.HIGH)).isLessThan(Float.MAX_VALUE);
  }

  /** The vector lanes are the scalar bits, in range, at its ends and past them, and in a tail. */
  @Test
  void lanesAreTheScalarBits() {
    float[] special = {0f, -0f, FloatExp.LOW, Math.nextDown(FloatExp.LOW), FloatExp.HIGH, Math.nextUp(FloatExp.HIGH),
        -1e-45f, 1e-45f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        -0.34657359f, 0.34657359f, 1f, -1f};
    Random random = new Random(5);
    int n = 100_003;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i < special.length ? special[i]
          : i % 2 == 0 ? (float) (random.nextGaussian() * 30)
          : Float.intBitsToFloat(random.nextInt()); // any bit pattern
    }
    for (float shift : new float[] {0f, 3.25f}) {
      float[] lanes = x.clone();
      FloatExp.expShiftedInPlace(lanes, shift, 0, n);
      for (int i = 0; i < n; i++) {
        assertThat(Float.floatToRawIntBits(lanes[i])).as("exp(%s - %s) at %d", x[i], shift, i)
            .isEqualTo(Float.floatToRawIntBits(FloatExp.exp(x[i] - shift)));
      }
    }
  }
}
