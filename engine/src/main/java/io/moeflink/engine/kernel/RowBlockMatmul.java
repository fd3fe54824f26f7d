package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code y = W x} on {@link RowBlocks}, as a packed GEMM: for each block of 32 output rows and
 * each run of {@link #KC} columns, the weights are widened to F32 once into a per-thread array
 * ({@code (KC, 32)}, in L1), then register tiles accumulate them with broadcast fused
 * multiply-adds: on AVX-512 five or four tokens x two blocks (64 rows) where a thread has two
 * full blocks side by side, else up to eight tokens x 32 rows ({@link Tiles16}); on AVX2 six or
 * five tokens x 16 rows, the last few tokens x 32 rows ({@link Tiles8}). With few tokens (up to
 * {@link #FUSED_TOKENS_16} on AVX-512; on AVX2 four of BF16, two of the scaled encodings) the stored
 * weights are read in place and widened in registers instead, per tile ({@link DecodeTiles16},
 * {@link DecodeTiles8}).
 *
 * <p>The order is the contract ({@code KernelBackend}): every output element is one chain of fused
 * multiply-adds over the columns in ascending order, {@code acc = fma(w[r][c], x[c], acc)} from
 * {@code acc = 0}. A tile keeps its accumulators in registers for a run of columns and in {@code y}
 * between runs, exactly; so the bits depend on neither the token count nor the tiling, the
 * threads, the vector width or the JDK, and the scalar reference computes the same chain.
 */
final class RowBlockMatmul {
  /**
   * Columns widened at a time: a block of 32 rows x 128 columns is 8 KiB of BF16 and 16 KiB of F32,
   * which leaves room in a 48 KiB L1 for the activations (256 columns spilled it: BF16 experts
   * with four to eight tokens ran 1.3-1.5x slower).
   */
  static final int KC = 128;
  /**
   * Up to this many tokens on 16 lanes the weights are widened in registers per group of eight,
   * four or fewer tokens ({@link DecodeTiles16}) rather than once into the F32 array: the
   * loads then overlap the multiply-adds (a 16-token BF16 projection 1.16x, four to twelve tokens
   * 1.2-1.8x faster, measured on AVX-512).
   */
  private static final int FUSED_TOKENS_16 = 16;
  /**
   * Up to this many tokens on 8 lanes BF16 weights are widened in registers ({@link
   * DecodeTiles8#bf16t4x16} and {@code bf16t3x16} on each half of a block's rows, {@code bf16t2},
   * {@code bf16t1}): four tokens against 64 MB of blocks out of DRAM, one thread on Zen 3, 9.3
   * against 6.9 GB/s staged (JDK 25; 8.9 against 6.7 on JDK 17). The scaled encodings' tiles of
   * three and four tokens are not written; they fuse up to two.
   */
  private static final int FUSED_TOKENS_8_BF16 = 4;
  /**
   * Whether eight tokens of FP8 or INT weights share one fused tile, or run as two tiles of four
   * (each widening the weights again; no slower in batch-16 and batch-64 decode on JDK 17). JDK
   * 17's C2 intrinsifies the last stores of {@code fp8t8} only now and then ({@code
   * -XX:+PrintIntrinsics}: their species not a constant, left to late inlining), and then boxes
   * those chains' vectors in every step of the loop: batch-16 FP8 decode at a third to two thirds
   * of its speed in 1 to 3 of 10 runs. JDK 25 never did; the JDKs between are not measured and
   * take the tiles of four.
   */
  private static final boolean SCALED_EIGHTS = Runtime.version().feature() >= 25;
  /**
   * Tokens per tile on 8 lanes, each on half a block's rows ({@link Tiles8#t6x16}, {@link
   * Tiles8#t5x16}): JDK 17's C2 spills six tokens' twelve accumulators (38 GFLOP/s alone on Zen 3,
   * one thread, against 70 for five); JDK 25 keeps them (86 against 77). The JDKs between are not
   * measured and take five.
   */
  private static final int HALF_TOKENS_8 = Runtime.version().feature() >= 25 ? 6 : 5;
  /** Tokens per tile on a pair of blocks ({@link Tiles16#t5x64}). */
  private static final int PAIR_TOKENS = 5;
  /** Bytes of a cache line. */
  private static final int LINE = 64;

  private static final int ROWS = RowBlocks.ROWS;
  private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  private static final int FP8_MASK = 0x87F00000; // sign and the seven magnitude bits, after << 20

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private RowBlockMatmul() {}

  /** One thread's widened runs. */
  private static final class Scratch {
    final float[] weights = new float[KC * ROWS]; // (KC, 32) F32
    final float[] second = new float[KC * ROWS]; // the next block's, for a pair of blocks
    float[] partial = new float[0]; // (tokens, 32) for the last, partial block
    int sink; // what touch read, kept so that its loads stay

    float[] partial(int floats) {
      if (partial.length < floats) {
        partial = new float[floats];
      }
      return partial;
    }
  }

  /** Whether the tiles fit this machine's vectors (16 or 8 float lanes); else the scalar chain runs. */
  static boolean supported() {
    return L == 16 || L == 8;
  }

  /**
   * Rows blocks {@code [b0, b1)} of {@code y[t][r] = sum_c W[r][c] x[t][c]}.
   *
   * @param x (tokens, cols)
   * @param y (tokens, rows)
   */
  static void blocks(RowBlocks w, float[] x, int tokens, float[] y, int b0, int b1) {
    blocks(w, x, 0, w.cols(), tokens, y, 0, w.rows(), b0, b1);
  }

  /**
   * {@link #blocks(RowBlocks, float[], int, float[], int, int)} on rows laid out with strides:
   * token {@code t}'s input at {@code x[x0 + t * xStride ..]}, its outputs at {@code y[y0 + t *
   * yStride ..]} (one head's slice of each row, read and written where it lies).
   */
  static void blocks(RowBlocks w, float[] x, int x0, int xStride, int tokens, float[] y, int y0, int yStride, int b0,
      int b1) {
    Scratch s = SCRATCH.get();
    int cols = w.cols();
    int rows = w.rows();
    boolean fused = fuses(w.encoding(), tokens);
    boolean pairs = pairs(w.encoding(), tokens);
    for (int block = b0; block < b1; block++) {
      if (pairs && block + 1 < b1 && (block + 2) * ROWS <= rows) {
        if (fused) {
          fusedPair(w, block, x, x0, y, y0);
        } else {
          pair(w, block, x, x0, xStride, tokens, y, y0, yStride, s);
        }
        block++;
        continue;
      }
      int valid = Math.min(ROWS, rows - block * ROWS);
      float[] out = valid == ROWS ? y : s.partial(tokens * ROWS);
      int base = valid == ROWS ? y0 + block * ROWS : 0;
      int stride = valid == ROWS ? yStride : ROWS;
      if (fused) {
        fusedTiles(w, block, x, x0, xStride, tokens, out, base, stride);
      } else {
        for (int c0 = 0; c0 < cols; c0 += KC) {
          int kc = Math.min(KC, cols - c0);
          widen(w, block, c0, kc, s.weights);
          tiles(s.weights, kc, x, x0 + c0, xStride, 0, tokens, out, base, stride, c0 == 0);
        }
      }
      if (valid < ROWS) {
        for (int t = 0; t < tokens; t++) {
          System.arraycopy(out, t * ROWS, y, y0 + t * yStride + block * ROWS, valid);
        }
      }
    }
  }

  /**
   * Two full blocks side by side ({@code block}, {@code block + 1}), each run widened into its own
   * array: five or four tokens at a time against both ({@link Tiles16#t5x64}, {@link
   * Tiles16#t4x64}; {@link #pairFours}), the few that a small count leaves per block.
   * After each tile it touches a share of the next run's cache lines, so that the weights stream in
   * from memory while the tiles compute instead of stalling the next widening (measured on JDK 25:
   * prefill 1x512 from 0.40 to 0.47 of the FMA peak, median of six; JDK 17 unchanged).
   */
  private static void pair(
      RowBlocks w, int block, float[] x, int x0, int xStride, int tokens, float[] y, int y0, int yStride, Scratch s) {
    int cols = w.cols();
    int base = y0 + block * ROWS;
    int fours = pairFours(tokens);
    int fives = (tokens - 4 * fours) / PAIR_TOKENS;
    int tiles = fives + fours;
    for (int c0 = 0; c0 < cols; c0 += KC) {
      int kc = Math.min(KC, cols - c0);
      boolean first = c0 == 0;
      widen(w, block, c0, kc, s.weights);
      widen(w, block + 1, c0, kc, s.second);
      // the next run's lines, touched a share after each tile so that they arrive while it computes
      int next = c0 + KC;
      int lines = next < cols ? Math.min(KC, cols - next) * ROWS * w.encoding().bits() / 8 / LINE : 0;
      int perTile = tiles == 0 ? 0 : (lines + tiles - 1) / tiles;
      Object ahead = w.chunk(block);
      Object ahead2 = w.chunk(block + 1);
      int at = byteOffset(w, block, next);
      int at2 = byteOffset(w, block + 1, next);
      int touched = 0;
      int t = 0;
      for (int tile = 0; tile < tiles; tile++) {
        if (tile < fives) {
          Tiles16.t5x64(s.weights, s.second, kc, x, x0 + t * xStride + c0, xStride, y, t * yStride + base, yStride, first);
          t += PAIR_TOKENS;
        } else {
          Tiles16.t4x64(s.weights, s.second, kc, x, x0 + t * xStride + c0, xStride, y, t * yStride + base, yStride, first);
          t += 4;
        }
        int upTo = Math.min(lines, touched + perTile);
        s.sink += touch(ahead, at, touched, upTo) + touch(ahead2, at2, touched, upTo);
        touched = upTo;
      }
      tiles(s.weights, kc, x, x0 + c0, xStride, t, tokens, y, base, yStride, first);
      tiles(s.second, kc, x, x0 + c0, xStride, t, tokens, y, base + ROWS, yStride, first);
    }
  }

  /**
   * How many four-token tiles a pair of blocks runs besides its five-token ones, so that together
   * they take all {@code tokens} ({@code 5a + 4b} covers every count from 12), or, with fewer
   * tokens, the one tile of four that five leaves; the rest go to one-block tiles.
   */
  static int pairFours(int tokens) {
    int fours = (PAIR_TOKENS - tokens % PAIR_TOKENS) % PAIR_TOKENS;
    return 4 * fours <= tokens ? fours : tokens % PAIR_TOKENS == 4 ? 1 : 0;
  }

  /** Where column {@code c0} of block {@code block} starts in its chunk, in bytes. */
  private static int byteOffset(RowBlocks w, int block, int c0) {
    return (w.firstColumn(block) + c0) * ROWS * w.encoding().bits() / 8;
  }

  /**
   * Reads one element of each cache line {@code [from, to)} counted from byte {@code at} of a
   * BF16 or 8- or 4-bit chunk (F32 blocks are staged whole and not touched).
   */
  private static int touch(Object chunk, int at, int from, int to) {
    int sum = 0;
    if (chunk instanceof short[] h) {
      for (int i = from; i < to; i++) {
        sum += h[at / 2 + i * (LINE / 2)];
      }
    } else if (chunk instanceof byte[] b) {
      for (int i = from; i < to; i++) {
        sum += b[at + i * LINE];
      }
    }
    return sum;
  }

  /**
   * One token against two full BF16 or FP8 blocks side by side ({@link DecodeTiles16#bf16t1x64},
   * {@link DecodeTiles16#fp8t1x64}), read where they lie: the loads of two blocks' weights overlap,
   * which a one-token tile, bound by the stream, needs (BF16: a decode's projections 1.06-1.07x,
   * measured out of DRAM; FP8: batch-1 decode of {@code small} 1.00-1.06x by the medians of
   * alternated decodes in one process, JDK 17 and 25).
   */
  private static void fusedPair(RowBlocks w, int block, float[] x, int x0, float[] y, int y0) {
    int cols = w.cols();
    int k0 = w.firstColumn(block);
    int cShift = (w.firstColumn(block + 1) - k0) * ROWS;
    if (w.encoding() == WeightEncoding.BF16) {
      DecodeTiles16.bf16t1x64((short[]) w.chunk(block), (short[]) w.chunk(block + 1), cShift, k0, k0 + cols, x, x0 - k0,
          y, y0 + block * ROWS, true);
      return;
    }
    byte[] b = (byte[]) w.chunk(block);
    byte[] c = (byte[]) w.chunk(block + 1);
    int group = w.groupSize();
    for (int from = 0; from < cols; from += group) { // FP8: a scale group at a time
      int g = from / group;
      DecodeTiles16.fp8t1x64(b, c, cShift, k0 + from, k0 + Math.min(cols, from + group), w.scales(),
          w.scaleOffset(block, g), w.scaleOffset(block + 1, g), x, x0 - k0, y, y0 + block * ROWS, from == 0);
    }
  }

  /**
   * Tokens {@code [from, tokens)} against one staged run, token {@code t}'s inputs at {@code x[t *
   * xStride + c0 ..]}: on 16 lanes groups of eight and four tokens, then the rest; on 8 lanes groups
   * of {@link #HALF_TOKENS_8} on each half of the rows, the last five or four also on halves, three
   * or fewer on all 32 rows.
   */
  private static void tiles(
      float[] b, int kc, float[] x, int c0, int xStride, int from, int tokens, float[] y, int base, int stride, boolean first) {
    int t = from;
    if (L == 16) {
      for (; t + 8 <= tokens; t += 8) {
        Tiles16.t8(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
      }
      for (; t + 4 <= tokens; t += 4) {
        Tiles16.t4(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
      }
      switch (tokens - t) {
        case 3 -> Tiles16.t3(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
        case 2 -> Tiles16.t2(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
        case 1 -> Tiles16.t1(b, kc, x, t * xStride + c0, y, t * stride + base, first);
        default -> { }
      }
    } else {
      for (; t + HALF_TOKENS_8 <= tokens; t += HALF_TOKENS_8) {
        halfTiles(HALF_TOKENS_8, b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
      }
      int rest = tokens - t;
      if (rest >= 4) {
        halfTiles(rest, b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
      }
      switch (rest) {
        case 3 -> Tiles8.t3(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
        case 2 -> Tiles8.t2(b, kc, x, t * xStride + c0, xStride, y, t * stride + base, stride, first);
        case 1 -> Tiles8.t1(b, kc, x, t * xStride + c0, y, t * stride + base, first);
        default -> { }
      }
    }
  }

  /** {@code n} (six, five or four) tokens against both halves of a staged run's rows, on 8 lanes. */
  private static void halfTiles(
      int n, float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int stride, boolean first) {
    for (int half = 0; half < ROWS; half += ROWS / 2) {
      switch (n) {
        case 6 -> Tiles8.t6x16(b, half, kc, x, x0, xStride, y, y0 + half, stride, first);
        case 5 -> Tiles8.t5x16(b, half, kc, x, x0, xStride, y, y0 + half, stride, first);
        default -> Tiles8.t4x16(b, half, kc, x, x0, xStride, y, y0 + half, stride, first);
      }
    }
  }

  /**
   * Whether {@link #blocks} runs a pair tile on two full blocks side by side for these tokens: the
   * staged one from {@link #PAIR_TOKENS} tokens, or one BF16 or FP8 token's.
   */
  static boolean pairs(WeightEncoding encoding, int tokens) {
    boolean staged = tokens >= PAIR_TOKENS && !fuses(encoding, tokens);
    boolean oneToken = tokens == 1 && (encoding == WeightEncoding.BF16 || encoding == WeightEncoding.FP8);
    return L == 16 && (staged || oneToken);
  }

  /**
   * Whether few enough tokens use each weight that widening it in registers ({@link DecodeTiles16},
   * {@link DecodeTiles8}) beats widening it once into the F32 array.
   */
  private static boolean fuses(WeightEncoding encoding, int tokens) {
    int most = L == 16 ? FUSED_TOKENS_16 : encoding == WeightEncoding.BF16 ? FUSED_TOKENS_8_BF16 : 2;
    return encoding != WeightEncoding.F32 && tokens <= most;
  }

  /**
   * Runs the fused tiles over a block's BF16, FP8 or INT columns where they lie: all of them at
   * once for BF16, one scale group at a time for the scaled encodings.
   */
  private static void fusedTiles(
      RowBlocks w, int block, float[] x, int x0, int xStride, int tokens, float[] y, int base, int stride) {
    WeightEncoding encoding = w.encoding();
    boolean scaled = encoding != WeightEncoding.BF16;
    Object chunk = w.chunk(block);
    int cols = w.cols();
    int k0 = w.firstColumn(block); // column k of the block at k0 + k of its chunk
    int group = scaled ? w.groupSize() : cols;
    int eight = scaled && !SCALED_EIGHTS ? 4 : 8;
    for (int from = 0; from < cols; from += group) {
      int to = Math.min(cols, from + group);
      int scaleAt = scaled ? w.scaleOffset(block, from / group) : 0;
      boolean first = from == 0;
      if (L == 16) {
        for (int t = 0, n; t < tokens; t += n) { // groups of eight, then four, then the rest
          n = tokens - t >= 8 ? eight : tokens - t >= 4 ? 4 : tokens - t;
          fused16(encoding, n, chunk, k0 + from, k0 + to, w, scaleAt, x, x0 + t * xStride - k0, xStride, y,
              t * stride + base, stride, first);
        }
      } else {
        fused8(encoding, tokens, chunk, k0 + from, k0 + to, w, scaleAt, x, x0 - k0, xStride, y, base, stride, first);
      }
    }
  }

  private static void fused16(WeightEncoding encoding, int tokens, Object chunk, int from, int to, RowBlocks w,
      int scaleAt, float[] x, int x0, int xStride, float[] y, int base, int stride, boolean first) {
    float[] sc = w.scales();
    float[] off = w.offsets();
    short[] h = chunk instanceof short[] shorts ? shorts : null; // BF16
    byte[] b = chunk instanceof byte[] bytes ? bytes : null; // FP8, INT8, INT4
    switch (encoding) {
      case BF16 -> {
        switch (tokens) {
          case 8 -> DecodeTiles16.bf16t8(h, from, to, x, x0, xStride, y, base, stride, first);
          case 4 -> DecodeTiles16.bf16t4(h, from, to, x, x0, xStride, y, base, stride, first);
          case 3 -> DecodeTiles16.bf16t3(h, from, to, x, x0, xStride, y, base, stride, first);
          case 2 -> DecodeTiles16.bf16t2(h, from, to, x, x0, xStride, y, base, stride, first);
          default -> DecodeTiles16.bf16t1(h, from, to, x, x0, y, base, first);
        }
      }
      case FP8 -> {
        switch (tokens) {
          case 8 -> DecodeTiles16.fp8t8(b, from, to, sc, scaleAt, x, x0, xStride, y, base, stride, first);
          case 4 -> DecodeTiles16.fp8t4(b, from, to, sc, scaleAt, x, x0, xStride, y, base, stride, first);
          case 3 -> DecodeTiles16.fp8t3(b, from, to, sc, scaleAt, x, x0, xStride, y, base, stride, first);
          case 2 -> DecodeTiles16.fp8t2(b, from, to, sc, scaleAt, x, x0, xStride, y, base, stride, first);
          default -> DecodeTiles16.fp8t1(b, from, to, sc, scaleAt, x, x0, y, base, first);
        }
      }
      case INT8 -> {
        switch (tokens) {
          case 8 -> DecodeTiles16.int8t8(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 4 -> DecodeTiles16.int8t4(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 3 -> DecodeTiles16.int8t3(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 2 -> DecodeTiles16.int8t2(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          default -> DecodeTiles16.int8t1(b, from, to, sc, off, scaleAt, x, x0, y, base, first);
        }
      }
      case INT4 -> {
        switch (tokens) {
          case 8 -> DecodeTiles16.int4t8(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 4 -> DecodeTiles16.int4t4(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 3 -> DecodeTiles16.int4t3(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          case 2 -> DecodeTiles16.int4t2(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
          default -> DecodeTiles16.int4t1(b, from, to, sc, off, scaleAt, x, x0, y, base, first);
        }
      }
      default -> throw new IllegalStateException("no fused tile for " + encoding);
    }
  }

  private static void fused8(WeightEncoding encoding, int tokens, Object chunk, int from, int to, RowBlocks w,
      int scaleAt, float[] x, int x0, int xStride, float[] y, int base, int stride, boolean first) {
    float[] sc = w.scales();
    float[] off = w.offsets();
    short[] h = chunk instanceof short[] shorts ? shorts : null; // BF16
    byte[] b = chunk instanceof byte[] bytes ? bytes : null; // FP8, INT8, INT4
    boolean two = tokens == 2;
    switch (encoding) {
      case BF16 -> {
        switch (tokens) {
          case 4, 3 -> {
            for (int half = 0; half < ROWS; half += ROWS / 2) {
              if (tokens == 4) {
                DecodeTiles8.bf16t4x16(h, half, from, to, x, x0, xStride, y, base + half, stride, first);
              } else {
                DecodeTiles8.bf16t3x16(h, half, from, to, x, x0, xStride, y, base + half, stride, first);
              }
            }
          }
          case 2 -> DecodeTiles8.bf16t2(h, from, to, x, x0, xStride, y, base, stride, first);
          default -> DecodeTiles8.bf16t1(h, from, to, x, x0, y, base, first);
        }
      }
      case FP8 -> {
        if (two) {
          DecodeTiles8.fp8t2(b, from, to, sc, scaleAt, x, x0, xStride, y, base, stride, first);
        } else {
          DecodeTiles8.fp8t1(b, from, to, sc, scaleAt, x, x0, y, base, first);
        }
      }
      case INT8 -> {
        if (two) {
          DecodeTiles8.int8t2(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
        } else {
          DecodeTiles8.int8t1(b, from, to, sc, off, scaleAt, x, x0, y, base, first);
        }
      }
      case INT4 -> {
        if (two) {
          DecodeTiles8.int4t2(b, from, to, sc, off, scaleAt, x, x0, xStride, y, base, stride, first);
        } else {
          DecodeTiles8.int4t1(b, from, to, sc, off, scaleAt, x, x0, y, base, first);
        }
      }
      default -> throw new IllegalStateException("no fused tile for " + encoding);
    }
  }

  /**
   * Widens columns {@code [c0, c0 + n)} of a block to F32 in {@code out}, read where they lie in
   * the block's chunk (F32 is copied): a staging copy first cost a sixth of a 512-token prefill.
   */
  private static void widen(RowBlocks w, int block, int c0, int n, float[] out) {
    int column = w.firstColumn(block) + c0; // where column c0 lies in the chunk
    switch (w.encoding()) {
      case F32 -> w.stage(block, c0, n, out);
      case BF16 -> {
        short[] in = (short[]) w.chunk(block);
        int shift = column * ROWS;
        for (int i = 0, count = n * ROWS; i < count; i += L) {
          IntVector wide = (IntVector) ShortVector.fromArray(S, in, shift + i).convertShape(VectorOperators.S2I, I, 0);
          wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, i);
        }
      }
      case FP8 -> {
        byte[] in = (byte[]) w.chunk(block);
        int shift = column * ROWS;
        float[] scales = w.scales();
        for (int c = 0; c < n; c++) {
          int scaleAt = w.scaleOffset(block, (c0 + c) / w.groupSize());
          for (int lane = 0; lane < ROWS; lane += L) {
            int i = c * ROWS + lane;
            IntVector codes = (IntVector) ByteVector.fromArray(B, in, shift + i).convertShape(VectorOperators.B2I, I, 0);
            FloatVector value = codes.lanewise(VectorOperators.LSHL, 20).and(FP8_MASK).reinterpretAsFloats();
            value.mul(FloatVector.fromArray(F, scales, scaleAt + lane)).intoArray(out, i);
          }
        }
      }
      case INT8 -> {
        byte[] in = (byte[]) w.chunk(block);
        int shift = column * ROWS;
        float[] scales = w.scales();
        float[] offsets = w.offsets();
        for (int c = 0; c < n; c++) {
          int at = w.scaleOffset(block, (c0 + c) / w.groupSize());
          for (int lane = 0; lane < ROWS; lane += L) {
            int i = c * ROWS + lane;
            FloatVector q = (FloatVector) ByteVector.fromArray(B, in, shift + i).convertShape(VectorOperators.B2F, F, 0);
            scaled(q, offsets, scales, at + lane).intoArray(out, i);
          }
        }
      }
      case INT4 -> {
        byte[] in = (byte[]) w.chunk(block);
        int half = ROWS / 2;
        int shift = column * half;
        float[] scales = w.scales();
        float[] offsets = w.offsets();
        for (int c = 0; c < n; c++) {
          int at = w.scaleOffset(block, (c0 + c) / w.groupSize());
          for (int lane = 0; lane < half; lane += L) {
            IntVector pairs =
                (IntVector) ByteVector.fromArray(B, in, shift + c * half + lane).convertShape(VectorOperators.B2I, I, 0);
            FloatVector low = (FloatVector) pairs.and(0xF).convert(VectorOperators.I2F, 0);
            FloatVector high = (FloatVector) pairs.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0);
            scaled(low, offsets, scales, at + lane).intoArray(out, c * ROWS + lane);
            scaled(high, offsets, scales, at + half + lane).intoArray(out, c * ROWS + half + lane);
          }
        }
      }
    }
  }

  /** {@code (q - offset) * scale} lane-wise: the integer difference is exact, the product rounds once. */
  private static FloatVector scaled(FloatVector q, float[] offsets, float[] scales, int at) {
    return q.sub(FloatVector.fromArray(F, offsets, at)).mul(FloatVector.fromArray(F, scales, at));
  }

  /** The same chain without vectors, for machines whose vectors the tiles do not cover. */
  static void blocksScalar(RowBlocks w, float[] x, int tokens, float[] y, int b0, int b1) {
    int cols = w.cols();
    int rows = w.rows();
    for (int r = b0 * ROWS; r < Math.min(rows, b1 * ROWS); r++) {
      for (int t = 0; t < tokens; t++) {
        float acc = 0f;
        for (int c = 0; c < cols; c++) {
          acc = Math.fma(w.get(r, c), x[t * cols + c], acc);
        }
        y[t * rows + r] = acc;
      }
    }
  }
}
