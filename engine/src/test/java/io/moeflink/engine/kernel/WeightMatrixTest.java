package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.checkpoint.DType;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WeightMatrixTest {
  /** A row range of a view (as MLA takes each head's key rows of kv_b_proj), transposed. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F8_E4M3"})
  void transposedRowsHoldExactlyTheStoredValues(DType dtype) {
    WeightMatrix whole = RandomWeights.matrix(dtype, 300, 140, new Random(11));
    WeightMatrix view = whole.rows(10, 280);
    WeightMatrix t = view.transposedRows("t", 129, 70); // crosses an FP8 128-row scale block

    assertThat(t.rows()).isEqualTo(140);
    assertThat(t.cols()).isEqualTo(70);
    assertThat(t.dtype()).isEqualTo(dtype == DType.F8_E4M3 ? DType.F32 : dtype);
    for (int r = 0; r < 70; r++) {
      for (int c = 0; c < 140; c++) {
        assertThat(Float.floatToRawIntBits(t.get(c, r)))
            .as("(%d, %d)", c, r)
            .isEqualTo(Float.floatToRawIntBits(view.get(129 + r, c)));
      }
    }
    assertThatThrownBy(() -> view.transposedRows("t", 200, 81)).isInstanceOf(IndexOutOfBoundsException.class);
  }
}
