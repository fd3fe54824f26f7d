package io.moeflink.workbench.modelgen;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.checkpoint.Fp8E4M3;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Fp8BlockQuantizerTest {

  /** Half the spacing of three mantissa bits, relative to the value. */
  private static final double NORMAL_RELATIVE_ERROR = 0x1p-4;

  /** Half the subnormal spacing 2^-9, in units of the block's scale. */
  private static final double SUBNORMAL_ABSOLUTE_ERROR = 0x1p-10;

  @Test
  void scaleShapeCountsPartialEdgeBlocks() {
    assertThat(Fp8BlockQuantizer.scaleShape(128, 128)).containsExactly(1, 1);
    assertThat(Fp8BlockQuantizer.scaleShape(129, 1)).containsExactly(2, 1);
    assertThat(Fp8BlockQuantizer.scaleShape(300, 200)).containsExactly(3, 2);
    assertThat(Fp8BlockQuantizer.scaleShape(2816, 1024)).containsExactly(22, 8);
  }

  @Test
  void scalesEachBlockToItsLargestMagnitudeAndBoundsTheError() {
    int rows = 300;
    int cols = 200;
    Random random = new Random(11);
    float[] weights = new float[rows * cols];
    for (int i = 0; i < weights.length; i++) {
      // Blocks of very different ranges, so that each needs its own scale.
      int blockRow = (i / cols) / 128;
      weights[i] = (float) (random.nextGaussian() * Math.pow(10, blockRow - 1));
    }

    Fp8BlockQuantizer.Quantized q = Fp8BlockQuantizer.quantize(weights, rows, cols);
    assertThat(q.scalesInv()).hasSize(3 * 2);
    float[] restored = q.dequantize();

    int subnormals = 0;
    for (int br = 0; br < 3; br++) {
      for (int bc = 0; bc < 2; bc++) {
        float amax = 0;
        for (int r = br * 128; r < Math.min(rows, br * 128 + 128); r++) {
          for (int c = bc * 128; c < Math.min(cols, bc * 128 + 128); c++) {
            amax = Math.max(amax, Math.abs(weights[r * cols + c]));
          }
        }
        float scale = q.scalesInv()[br * 2 + bc];
        assertThat(scale).as("block (%d, %d)", br, bc).isEqualTo(amax / 448f);
        for (int r = br * 128; r < Math.min(rows, br * 128 + 128); r++) {
          for (int c = bc * 128; c < Math.min(cols, bc * 128 + 128); c++) {
            int i = r * cols + c;
            double bound =
                Math.max(
                    Math.abs(weights[i]) * NORMAL_RELATIVE_ERROR, scale * SUBNORMAL_ABSOLUTE_ERROR);
            assertThat(Math.abs((double) restored[i] - weights[i]))
                .as("element (%d, %d)", r, c)
                .isLessThanOrEqualTo(bound * (1 + 1e-6));
            if ((q.codes()[i] & 0x78) == 0 && (q.codes()[i] & 0x07) != 0) {
              subnormals++;
            }
          }
        }
      }
    }
    assertThat(subnormals).as("subnormal codes in a realistic matrix").isPositive();
  }

  @Test
  void mapsEachBlockMaximumToFullRange() {
    float[] weights = {0.5f, -2f, 1f, 0.25f};
    Fp8BlockQuantizer.Quantized q = Fp8BlockQuantizer.quantize(weights, 2, 2);
    assertThat(q.scalesInv()).containsExactly(2f / 448f);
    assertThat(Fp8E4M3.decode(q.codes()[1])).isEqualTo(-448f);
    assertThat(q.dequantize()).containsExactly(weights);
  }

  @Test
  void givesAnAllZeroBlockScaleOne() {
    float[] weights = new float[130 * 3];
    weights[129 * 3] = 7f; // only the second row block is non-zero
    Fp8BlockQuantizer.Quantized q = Fp8BlockQuantizer.quantize(weights, 130, 3);
    assertThat(q.scalesInv()).containsExactly(1f, 7f / 448f);
    assertThat(q.dequantize()).containsExactly(weights);
  }
}
