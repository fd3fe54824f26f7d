package io.moeflink.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Fp8E4M3Test {

  /** The E4M3fn definition, written independently of the class under test. */
  private static double definedValue(int code) {
    int sign = code >> 7;
    int exponent = (code >> 3) & 0xF;
    int mantissa = code & 7;
    double magnitude;
    if (exponent == 15 && mantissa == 7) {
      return Double.NaN;
    } else if (exponent == 0) {
      magnitude = mantissa / 8.0 * Math.pow(2, -6);
    } else {
      magnitude = (1 + mantissa / 8.0) * Math.pow(2, exponent - 7);
    }
    return sign == 1 ? -magnitude : magnitude;
  }

  @Test
  void decodesEveryCodeAsTheFormatDefinesIt() {
    for (int code = 0; code < 256; code++) {
      double expected = definedValue(code);
      float actual = Fp8E4M3.decode((byte) code);
      if (Double.isNaN(expected)) {
        assertThat(actual).as("code 0x%02X", code).isNaN();
      } else {
        assertThat((double) actual).as("code 0x%02X", code).isEqualTo(expected);
      }
    }
  }

  @Test
  void decodesLandmarkCodes() {
    assertThat(Fp8E4M3.decode((byte) 0x00)).isEqualTo(0f);
    assertThat(Float.floatToIntBits(Fp8E4M3.decode((byte) 0x80)))
        .isEqualTo(Float.floatToIntBits(-0f));
    assertThat(Fp8E4M3.decode((byte) 0x01)).isEqualTo(0x1p-9f); // smallest subnormal
    assertThat(Fp8E4M3.decode((byte) 0x07)).isEqualTo(7 * 0x1p-9f); // largest subnormal
    assertThat(Fp8E4M3.decode((byte) 0x08)).isEqualTo(0x1p-6f); // smallest normal
    assertThat(Fp8E4M3.decode((byte) 0x38)).isEqualTo(1f);
    assertThat(Fp8E4M3.decode((byte) 0x7E)).isEqualTo(448f);
    assertThat(Fp8E4M3.decode((byte) 0xFE)).isEqualTo(-448f);
    assertThat(Fp8E4M3.decode((byte) 0x7F)).isNaN();
    assertThat(Fp8E4M3.decode((byte) 0xFF)).isNaN();
    assertThat(Fp8E4M3.decode((byte) 0x78)).isEqualTo(256f); // exponent 15 is finite
  }

  @Test
  void encodeInvertsDecodeForEveryFiniteCode() {
    for (int code = 0; code < 256; code++) {
      float value = Fp8E4M3.decode((byte) code);
      if (!Float.isNaN(value)) {
        assertThat(Fp8E4M3.encode(value) & 0xFF).as("code 0x%02X", code).isEqualTo(code);
      }
    }
  }

  @Test
  void roundsHalfwayCasesToTheEvenCode() {
    for (int code = 0; code < 0x7E; code++) {
      float low = Fp8E4M3.decode((byte) code);
      float high = Fp8E4M3.decode((byte) (code + 1));
      float midpoint = (low + high) / 2; // exact: E4M3 midpoints need only 5 significant bits
      int even = code % 2 == 0 ? code : code + 1;
      assertThat(Fp8E4M3.encode(midpoint) & 0xFF).as("tie after 0x%02X", code).isEqualTo(even);
      assertThat(Fp8E4M3.encode(-midpoint) & 0xFF).isEqualTo(even | 0x80);
      assertThat(Fp8E4M3.encode(Math.nextDown(midpoint)) & 0xFF).isEqualTo(code);
      assertThat(Fp8E4M3.encode(Math.nextUp(midpoint)) & 0xFF).isEqualTo(code + 1);
    }
  }

  @Test
  void roundsSubnormalTiesToEven() {
    assertThat(Fp8E4M3.encode(0.5f * 0x1p-9f)).isEqualTo((byte) 0x00);
    assertThat(Fp8E4M3.encode(1.5f * 0x1p-9f)).isEqualTo((byte) 0x02);
    assertThat(Fp8E4M3.encode(2.5f * 0x1p-9f)).isEqualTo((byte) 0x02);
    assertThat(Fp8E4M3.encode(7.5f * 0x1p-9f)).isEqualTo((byte) 0x08); // up into the normals
    assertThat(Fp8E4M3.encode(Float.MIN_VALUE)).isEqualTo((byte) 0x00);
    assertThat(Fp8E4M3.encode(-Float.MIN_VALUE)).isEqualTo((byte) 0x80);
  }

  @Test
  void saturatesAtTheLargestFiniteValue() {
    for (float big : new float[] {448f, 449f, 463.9f, 464f, 480f, 1e30f, Float.POSITIVE_INFINITY}) {
      assertThat(Fp8E4M3.encode(big)).as("%s", big).isEqualTo((byte) 0x7E);
      assertThat(Fp8E4M3.encode(-big)).as("%s", -big).isEqualTo((byte) 0xFE);
    }
    assertThat(Fp8E4M3.encode(Math.nextDown(448f))).isEqualTo((byte) 0x7E);
    assertThat(Fp8E4M3.encode(432f)).isEqualTo((byte) 0x7E); // tie between 416 and 448
  }

  @Test
  void keepsNaN() {
    assertThat(Fp8E4M3.decode(Fp8E4M3.encode(Float.NaN))).isNaN();
    assertThat(Fp8E4M3.decode(Fp8E4M3.encode(Float.intBitsToFloat(0xFF800001)))).isNaN();
  }
}
