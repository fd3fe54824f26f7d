package io.moeflink.workbench.modelgen;

import java.util.ArrayList;
import java.util.List;

/**
 * Rows {@code [rowBegin, rowEnd)} of one weight: the unit the generator's threads produce and write
 * independently. FP8 slices start on a 128-row block boundary so that every block's scale is
 * computed from the whole block.
 */
record WeightSlice(WeightSpec weight, long rowBegin, long rowEnd) {

  /**
   * Slices of about {@code targetElements} elements (at least one row or block) covering all rows.
   */
  static List<WeightSlice> cover(WeightSpec weight, long targetElements) {
    long rowsPerSlice = Math.max(1, targetElements / weight.cols());
    if (weight.storage() == WeightSpec.Storage.FP8_BLOCKS) {
      long block = Fp8BlockQuantizer.BLOCK;
      rowsPerSlice = Math.max(1, rowsPerSlice / block) * block;
    }
    List<WeightSlice> slices = new ArrayList<>();
    for (long row = 0; row < weight.rows(); row += rowsPerSlice) {
      slices.add(new WeightSlice(weight, row, Math.min(weight.rows(), row + rowsPerSlice)));
    }
    return slices;
  }

  long firstElement() {
    return Math.multiplyExact(rowBegin, weight.cols());
  }

  int elementCount() {
    return Math.toIntExact(Math.multiplyExact(rowEnd - rowBegin, weight.cols()));
  }
}
