package io.moeflink.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Bf16Test {

  @Test
  void encodeInvertsDecodeForEveryNonNaNPattern() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float value = Bf16.decode((short) bits);
      if (!Float.isNaN(value)) {
        assertThat(Bf16.encode(value) & 0xFFFF).as("pattern 0x%04X", bits).isEqualTo(bits);
      }
    }
  }

  @Test
  void decodesTheUpperHalfOfAFloat() {
    assertThat(Bf16.decode((short) 0x3F80)).isEqualTo(1f);
    assertThat(Bf16.decode((short) 0xC000)).isEqualTo(-2f);
    assertThat(Bf16.decode((short) 0x7F80)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Bf16.decode((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
  }

  @Test
  void roundsHalfwayCasesToEven() {
    float ulp = 0x1p-7f; // bfloat16 spacing just above 1
    assertThat(Bf16.decode(Bf16.encode(1 + ulp / 2))).isEqualTo(1f);
    assertThat(Bf16.decode(Bf16.encode(1 + 3 * ulp / 2))).isEqualTo(1 + 2 * ulp);
    assertThat(Bf16.decode(Bf16.encode(Math.nextUp(1 + ulp / 2)))).isEqualTo(1 + ulp);
    assertThat(Bf16.decode(Bf16.encode(-(1 + ulp / 2)))).isEqualTo(-1f);
    assertThat(Bf16.decode(Bf16.encode(Float.MAX_VALUE))).isEqualTo(Float.POSITIVE_INFINITY);
  }

  @Test
  void agreesWithNearestNeighbourRoundingOnRandomFloats() {
    SplittableRandom random = new SplittableRandom(7);
    for (int n = 0; n < 200_000; n++) {
      float value = Float.intBitsToFloat(random.nextInt());
      if (Float.isNaN(value) || Float.isInfinite(value)) {
        continue;
      }
      int truncated = Float.floatToRawIntBits(value) >>> 16;
      float low = Bf16.decode((short) truncated);
      double high = Bf16.decode((short) (truncated + 1)); // next magnitude, same sign
      if (Double.isInfinite(high)) {
        high = Math.copySign(0x1p128, high); // where rounding to nearest overflows
      }
      double toLow = Math.abs((double) value - low);
      double toHigh = Math.abs(high - value);
      int expected =
          toLow < toHigh
              ? truncated
              : toHigh < toLow ? truncated + 1 : (truncated % 2 == 0 ? truncated : truncated + 1);
      assertThat(Bf16.encode(value) & 0xFFFF)
          .as("value %s (0x%08X)", value, Float.floatToRawIntBits(value))
          .isEqualTo(expected & 0xFFFF);
    }
  }

  @Test
  void keepsNaNEvenWhenThePayloadIsInTheDroppedBits() {
    assertThat(Bf16.decode(Bf16.encode(Float.NaN))).isNaN();
    assertThat(Bf16.decode(Bf16.encode(Float.intBitsToFloat(0x7F800001)))).isNaN();
    assertThat(Bf16.decode(Bf16.encode(Float.intBitsToFloat(0xFF800001)))).isNaN();
  }
}
