package io.moeflink.workbench.quantize;

import io.moeflink.engine.checkpoint.Bf16;

/**
 * Quantizes weight rows to integers as compressed-tensors does for {@code pack-quantized}
 * checkpoints: per row and group, symmetric {@code scale = max|w| / ((2^bits - 1) / 2)} with zero
 * point 0, or asymmetric {@code scale = (max - min) / (2^bits - 1)} with {@code zero = qmin -
 * round(min / scale)}; {@code q = clamp(round(w / scale) + zero)}, rounding half to even as torch
 * does. Scales are stored BF16 (the model's dtype), rounded up so that the largest weight of a
 * group stays within range, and the integers use the stored scale, so {@code (q - zero) * scale}
 * is exactly what a reader computes and every weight is within half a step of it. Integers are packed offset to unsigned into int32 words, the first
 * column in the lowest bits; zero points likewise, packed along the rows.
 */
public final class IntQuantizer {
  private IntQuantizer() {}

  /**
   * Quantized rows.
   *
   * @param words (rows, ceil(cols / perWord)) packed integers
   * @param scales (rows, groups) BF16 bits
   * @param zeros (rows, groups) zero points, or null when symmetric
   */
  public record Rows(IntQuantization q, int rows, int cols, int[] words, short[] scales, int[] zeros) {

    public int groups() {
      return (cols + q.groupFor(cols) - 1) / q.groupFor(cols);
    }

    public int wordsPerRow() {
      return (cols + q.perWord() - 1) / q.perWord();
    }

    /** The value a reader recovers for {@code (r, c)}: {@code (q - zero) * scale}. */
    public float value(int r, int c) {
      int g = c / q.groupFor(cols);
      int word = words[r * wordsPerRow() + c / q.perWord()];
      int unsigned = (word >>> (q.bits() * (c % q.perWord()))) & ((1 << q.bits()) - 1);
      int integer = unsigned - (1 << (q.bits() - 1));
      int zero = zeros == null ? 0 : zeros[r * groups() + g];
      return (float) (integer - zero) * Bf16.decode(scales[r * groups() + g]);
    }

    /** The zero points packed along the rows: (ceil(rows / perWord), groups) words. */
    public int[] packedZeros() {
      int perWord = q.perWord();
      int groups = groups();
      int[] packed = new int[((rows + perWord - 1) / perWord) * groups];
      for (int r = 0; r < rows; r++) {
        for (int g = 0; g < groups; g++) {
          int unsigned = zeros[r * groups + g] + (1 << (q.bits() - 1));
          packed[(r / perWord) * groups + g] |= unsigned << (q.bits() * (r % perWord));
        }
      }
      return packed;
    }
  }

  /** Quantizes a row-major {@code (rows, cols)} matrix. */
  public static Rows quantize(float[] w, int rows, int cols, IntQuantization q) {
    int group = q.groupFor(cols);
    int groups = (cols + group - 1) / group;
    int perWord = q.perWord();
    int wordsPerRow = (cols + perWord - 1) / perWord;
    int[] words = new int[rows * wordsPerRow];
    short[] scales = new short[rows * groups];
    int[] zeros = q.symmetric() ? null : new int[rows * groups];
    int levels = (1 << q.bits()) - 1;
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        int c0 = g * group;
        int c1 = Math.min(cols, c0 + group);
        float min = 0;
        float max = 0;
        for (int c = c0; c < c1; c++) {
          min = Math.min(min, w[r * cols + c]);
          max = Math.max(max, w[r * cols + c]);
        }
        float scale = q.symmetric() ? Math.max(Math.abs(min), Math.abs(max)) / (levels / 2f) : (max - min) / levels;
        short stored = bf16AtLeast(scale > 0 ? scale : 1f);
        float s = Bf16.decode(stored);
        int zero = q.symmetric() ? 0 : clamp(q.min() - (int) Math.rint(min / s), q);
        scales[r * groups + g] = stored;
        if (zeros != null) {
          zeros[r * groups + g] = zero;
        }
        for (int c = c0; c < c1; c++) {
          int integer = clamp((int) Math.rint(w[r * cols + c] / s) + zero, q);
          int unsigned = integer - q.min();
          words[r * wordsPerRow + c / perWord] |= unsigned << (q.bits() * (c % perWord));
        }
      }
    }
    return new Rows(q, rows, cols, words, scales, zeros);
  }

  /** The smallest BF16 not below {@code scale > 0}: the largest weight then needs no clamping. */
  static short bf16AtLeast(float scale) {
    short b = Bf16.encode(scale);
    return Bf16.decode(b) < scale ? (short) (b + 1) : b;
  }

  private static int clamp(int v, IntQuantization q) {
    return Math.max(q.min(), Math.min(q.max(), v));
  }
}
