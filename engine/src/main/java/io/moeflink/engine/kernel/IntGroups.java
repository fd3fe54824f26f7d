package io.moeflink.engine.kernel;

/**
 * The scales and zero points of an INT8 or INT4 matrix: weight {@code (r, c)} of the stored
 * tensor is {@code (q - zero[r][g]) * scale[r][g]} with {@code g = c / groupSize}; the
 * integer difference is exact in F32, the product rounds once. Per-channel quantization is one
 * group of all the columns.
 *
 * @param groupSize columns sharing a scale
 * @param groups groups per row, {@code ceil(cols / groupSize)}
 * @param scales (storedRows, groups)
 * @param zeros (storedRows, groups) signed zero points, or null for symmetric quantization
 */
record IntGroups(int groupSize, int groups, float[] scales, byte[] zeros) {

  float scale(int storedRow, int col) {
    return scales[storedRow * groups + col / groupSize];
  }

  int zero(int storedRow, int col) {
    return zeros == null ? 0 : zeros[storedRow * groups + col / groupSize];
  }
}
