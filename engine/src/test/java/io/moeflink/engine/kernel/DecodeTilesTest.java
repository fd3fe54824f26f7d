package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused INT tiles of both widths against the chain they promise, element by element: on a
 * machine of either vector width one of the two classes runs in the Vector API's portable
 * fallback, so an AVX2 build still checks the AVX-512 tiles' lane arithmetic.
 */
class DecodeTilesTest {
  private static final int KC = 40;

  @ParameterizedTest(name = "INT{0}")
  @ValueSource(ints = {8, 4})
  void integerTilesOfBothWidthsComputeTheWidenedChain(int bits) {
    Random random = new Random(bits);
    byte[] b = new byte[KC * 32];
    random.nextBytes(b);
    float[] scales = new float[32];
    float[] offsets = new float[32];
    for (int r = 0; r < 32; r++) {
      scales[r] = 0.001f + random.nextFloat() * 0.01f;
      offsets[r] = bits == 4 ? 8 + random.nextInt(3) - 1 : random.nextInt(5) - 2;
    }
    float[] x = new float[2 * KC];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    int from = 3;
    int to = 37;
    float[] expected = new float[64];
    for (int t = 0; t < 2; t++) {
      for (int r = 0; r < 32; r++) {
        float acc = 0.5f * r; // a running total from an earlier group
        for (int k = from; k < to; k++) {
          acc = Math.fma((stored(b, bits, k, r) - offsets[r]) * scales[r], x[t * KC + k], acc);
        }
        expected[t * 32 + r] = acc;
      }
    }
    for (int tokens = 1; tokens <= 2; tokens++) {
      float[] y16 = start();
      float[] y8 = start();
      if (bits == 8) {
        if (tokens == 1) {
          DecodeTiles16.int8t1(b, from, to, scales, offsets, 0, x, 0, y16, 0, false);
          DecodeTiles8.int8t1(b, from, to, scales, offsets, 0, x, 0, y8, 0, false);
        } else {
          DecodeTiles16.int8t2(b, from, to, scales, offsets, 0, x, 0, KC, y16, 0, 32, false);
          DecodeTiles8.int8t2(b, from, to, scales, offsets, 0, x, 0, KC, y8, 0, 32, false);
        }
      } else if (tokens == 1) {
        DecodeTiles16.int4t1(b, from, to, scales, offsets, 0, x, 0, y16, 0, false);
        DecodeTiles8.int4t1(b, from, to, scales, offsets, 0, x, 0, y8, 0, false);
      } else {
        DecodeTiles16.int4t2(b, from, to, scales, offsets, 0, x, 0, KC, y16, 0, 32, false);
        DecodeTiles8.int4t2(b, from, to, scales, offsets, 0, x, 0, KC, y8, 0, 32, false);
      }
      for (int i = 0; i < tokens * 32; i++) {
        assertThat(Float.floatToRawIntBits(y16[i])).as("16 lanes, %d token(s), output %d", tokens, i)
            .isEqualTo(Float.floatToRawIntBits(expected[i]));
        assertThat(Float.floatToRawIntBits(y8[i])).as("8 lanes, %d token(s), output %d", tokens, i)
            .isEqualTo(Float.floatToRawIntBits(expected[i]));
      }
    }
  }

  /** The stored integer of row {@code r}, column {@code k}, in {@link RowBlocks}' block layout. */
  private static int stored(byte[] b, int bits, int k, int r) {
    if (bits == 8) {
      return b[k * 32 + r];
    }
    int pair = b[k * 16 + r % 16];
    return r < 16 ? pair & 0xF : (pair >> 4) & 0xF;
  }

  private static float[] start() {
    float[] y = new float[64];
    for (int t = 0; t < 2; t++) {
      for (int r = 0; r < 32; r++) {
        y[t * 32 + r] = 0.5f * r;
      }
    }
    return y;
  }
}
