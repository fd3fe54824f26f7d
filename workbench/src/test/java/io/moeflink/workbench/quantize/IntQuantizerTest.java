package io.moeflink.workbench.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.checkpoint.Bf16;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class IntQuantizerTest {

  private static float[] gaussian(int n, long seed, float mean) {
    Random random = new Random(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = mean + (float) random.nextGaussian() * 0.02f;
    }
    return w;
  }

  /** Every value lands within half a step of its weight, the extremes of each group too. */
  @ParameterizedTest
  @CsvSource({"8,0,true", "8,0,false", "4,32,true", "4,32,false", "4,64,false", "8,32,true"})
  void everyValueIsWithinHalfAStep(int bits, int group, boolean symmetric) {
    IntQuantization q = new IntQuantization(bits, group, symmetric);
    int rows = 24;
    int cols = 128;
    float[] w = gaussian(rows * cols, bits * 31L + group, symmetric ? 0 : 0.01f);
    IntQuantizer.Rows stored = IntQuantizer.quantize(w, rows, cols, q);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        float scale = Bf16.decode(stored.scales()[r * stored.groups() + c / q.groupFor(cols)]);
        assertThat(Math.abs(stored.value(r, c) - w[r * cols + c]))
            .as("(%d, %d) of %s", r, c, q)
            .isLessThanOrEqualTo(0.5001f * scale);
      }
    }
  }

  @Test
  void packsTheFirstColumnIntoTheLowestBitsOffsetToUnsigned() {
    // one row of 8 columns, scale 1: max |w| = 7.5 * scale exactly
    float[] w = {-7.5f, -1, 0, 1, 2, 3, 7.5f, 7};
    IntQuantizer.Rows stored = IntQuantizer.quantize(w, 1, 8, new IntQuantization(4, 0, true));
    assertThat(Bf16.decode(stored.scales()[0])).isEqualTo(1f);
    // q = -8 (-7.5 rounds half to even), -1, 0, 1, 2, 3, 7 (8 clamps), 7; stored q + 8
    int expected = 0;
    int[] unsigned = {0, 7, 8, 9, 10, 11, 15, 15};
    for (int c = 0; c < 8; c++) {
      expected |= unsigned[c] << (4 * c);
    }
    assertThat(stored.words()).containsExactly(expected);
  }

  @Test
  void packsZeroPointsAlongTheRows() {
    IntQuantization q = new IntQuantization(4, 32, false);
    int rows = 11; // two words of rows, the second part full
    float[] w = gaussian(rows * 64, 5, 0.03f);
    IntQuantizer.Rows stored = IntQuantizer.quantize(w, rows, 64, q);
    int[] packed = stored.packedZeros();
    assertThat(packed).hasSize(2 * 2);
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < 2; g++) {
        int nibble = (packed[(r / 8) * 2 + g] >>> (4 * (r % 8))) & 0xF;
        assertThat(nibble - 8).as("zero point (%d, %d)", r, g).isEqualTo(stored.zeros()[r * 2 + g]);
      }
    }
    assertThat(java.util.Arrays.stream(stored.zeros()).anyMatch(z -> z != 0)).as("a non-zero zero point").isTrue();
  }
}
