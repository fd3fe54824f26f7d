package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code (float) Math.exp(t)} in float lanes, the same bits. The exponential is computed in
 * double lanes (a reduction by {@code ln 2} and a Taylor polynomial of degree 11, relative error
 * under 2^-46: {@code |r|^12 / 12!} at {@code |r| = ln 2 / 2}) and rounded to float. The float it
 * rounds to is {@code (float) Math.exp}'s whenever the double lies farther than 2^-40 (relative)
 * from a float rounding midpoint: {@code Math.exp} is within one double ulp (2^-52) of the true
 * value, so then both lie on the same side of the midpoint. A vector with a lane that close
 * (about one in 2^12), or with an input whose e^t leaves the normal floats (|t| > 87, NaN), is
 * computed by {@code Math.exp} itself. Every float was checked once against {@code Math.exp} on
 * JDK 17 and 25.
 *
 * <p>Floats become doubles and back by their bits, in long lanes, not by the Vector API's
 * conversions: on JDK 17, a float vector of another shape, or a conversion the kernels do not
 * use, flowing through the API's shared methods left C2 without the constant vector classes it
 * needs there, and the matmul tiles fell back to boxed vectors, twice as slow. The even lanes and
 * the odd go through the same straight-line code, one call each, which keeps C2 under its node
 * limit.
 */
final class ExpLanes {
  /** Double lanes of the float vectors' shape: half as many. */
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Long> J = LongVector.SPECIES_PREFERRED;
  /** Whether this shape has the double lanes (AVX2 and AVX-512 have). */
  private static final boolean SUPPORTED =
      D.vectorBitSize() == F.vectorBitSize() && J.vectorBitSize() == F.vectorBitSize();

  private static final float RANGE = 87f; // e^87 and e^-87 are normal floats
  private static final double LOG2_E = 1.4426950408889634;
  private static final double LN2_HI = 0.6931471803691238; // 32 significant bits: n * LN2_HI is exact
  private static final double LN2_LO = 1.9082149292705877e-10;
  private static final double ROUNDER = 0x1.8p52; // adding it rounds to an integer, in the low bits
  private static final long LOW = 0xFFFFFFFFL;
  private static final long REBIAS = 1023 - 127; // double exponent bias minus float's
  private static final long MIDPOINT = 1L << 28; // the 29 bits a double -> float rounding drops, at half
  private static final int WINDOW = 13;
  private static final long NEAR = 1L << (WINDOW - 1); // 2^12 double ulps: 2^-40 relative
  private static final long NAN = Float.floatToRawIntBits(Float.NaN);
  // 1 / k!, the Taylor coefficients of degree 0 to 11 (the factorials are exact in double)
  private static final double T0 = 1;
  private static final double T1 = 1;
  private static final double T2 = 1.0 / 2;
  private static final double T3 = 1.0 / 6;
  private static final double T4 = 1.0 / 24;
  private static final double T5 = 1.0 / 120;
  private static final double T6 = 1.0 / 720;
  private static final double T7 = 1.0 / 5040;
  private static final double T8 = 1.0 / 40320;
  private static final double T9 = 1.0 / 362880;
  private static final double T10 = 1.0 / 3628800;
  private static final double T11 = 1.0 / 39916800;

  // The constants broadcast once: an operation with a scalar operand broadcasts it at every use,
  // and each broadcast adds its share of C2's nodes to the compile (see half).
  private static final FloatVector RANGE_V = FloatVector.broadcast(F, RANGE);
  private static final LongVector LOW_V = LongVector.broadcast(J, LOW);
  private static final LongVector CLEAR_V = LongVector.broadcast(J, ~(7L << 60));
  private static final LongVector REBIAS_DOUBLE_V = LongVector.broadcast(J, REBIAS << 52);
  private static final LongVector REBIAS_FLOAT_V = LongVector.broadcast(J, REBIAS << 23);
  private static final LongVector DROPPED_V = LongVector.broadcast(J, 2 * MIDPOINT - 1);
  private static final LongVector MIDPOINT_V = LongVector.broadcast(J, MIDPOINT);
  private static final LongVector WINDOW_START_V = LongVector.broadcast(J, MIDPOINT - NEAR);
  private static final LongVector ONE_V = LongVector.broadcast(J, 1);
  private static final LongVector NAN_V = LongVector.broadcast(J, NAN);
  private static final DoubleVector LOG2_E_V = DoubleVector.broadcast(D, LOG2_E);
  private static final DoubleVector ROUNDER_V = DoubleVector.broadcast(D, ROUNDER);
  private static final DoubleVector LN2_HI_V = DoubleVector.broadcast(D, LN2_HI);
  private static final DoubleVector LN2_LO_V = DoubleVector.broadcast(D, LN2_LO);
  private static final DoubleVector T0_V = DoubleVector.broadcast(D, T0);
  private static final DoubleVector T1_V = DoubleVector.broadcast(D, T1);
  private static final DoubleVector T2_V = DoubleVector.broadcast(D, T2);
  private static final DoubleVector T3_V = DoubleVector.broadcast(D, T3);
  private static final DoubleVector T4_V = DoubleVector.broadcast(D, T4);
  private static final DoubleVector T5_V = DoubleVector.broadcast(D, T5);
  private static final DoubleVector T6_V = DoubleVector.broadcast(D, T6);
  private static final DoubleVector T7_V = DoubleVector.broadcast(D, T7);
  private static final DoubleVector T8_V = DoubleVector.broadcast(D, T8);
  private static final DoubleVector T9_V = DoubleVector.broadcast(D, T9);
  private static final DoubleVector T10_V = DoubleVector.broadcast(D, T10);
  private static final DoubleVector T11_V = DoubleVector.broadcast(D, T11);

  private ExpLanes() {}

  /** {@code a[i] = (float) Math.exp(a[i])} for {@code i} in {@code [from, to)}. */
  static void expInPlace(float[] a, int from, int to) {
    int i = from;
    if (SUPPORTED && to - from >= L) {
      long[] halves = new long[2 * J.length()];
      for (; i + L <= to; i += L) {
        if (!vector(a, i, halves)) {
          scalar(a, i, i + L);
        }
      }
    }
    scalar(a, i, to);
  }

  /**
   * One vector of {@code a} from {@code i} in place, or false (and {@code a} untouched) where a
   * lane needs {@code Math.exp}. No vector crosses a call or goes round a loop, on purpose: C2 on
   * JDK 17 boxes a vector that crosses a call it did not inline (a helper it happened to compile
   * on its own first is "already compiled into a big method" and no longer inlined), and, now
   * and then, one that a loop carries. Arrays cross the calls: {@code halves} holds the even
   * lanes' floats and then the odd lanes'.
   */
  private static boolean vector(float[] a, int i, long[] halves) {
    FloatVector t = FloatVector.fromArray(F, a, i);
    if (!t.abs().compare(VectorOperators.LE, RANGE_V).allTrue()) {
      return false;
    }
    // each float's bits in the low half of a long: the even lanes', then the odd lanes'
    LongVector pairs = t.viewAsIntegralLanes().reinterpretAsLongs();
    pairs.and(LOW_V).intoArray(halves, 0);
    pairs.lanewise(VectorOperators.LSHR, 32).intoArray(halves, J.length());
    half(halves, 0);
    half(halves, J.length());
    LongVector even = LongVector.fromArray(J, halves, 0);
    LongVector odd = LongVector.fromArray(J, halves, J.length());
    // back by ints: on JDK 17 long -> float was not intrinsic
    FloatVector result = even.or(odd.lanewise(VectorOperators.LSHL, 32)).reinterpretAsInts().reinterpretAsFloats();
    if (result.compare(VectorOperators.NE, result).anyTrue()) { // a lane near a midpoint
      return false;
    }
    result.intoArray(a, i);
    return true;
  }

  /**
   * The floats whose bits {@code halves} holds from {@code at}, each in the low half of a long,
   * exponentiated and rounded in place: all ones where one lies near a float rounding midpoint.
   * Every shift count is a constant: compiled on its own, a shift by a parameter was boxed on JDK
   * 17 (C2 had no intrinsic for it). Every other constant is a vector broadcast once, and the
   * conversions take as few operations as they can: each Vector API call inlines into dozens of
   * C2 nodes, and with scalar operands (a broadcast per call) this method's compile passed C2's
   * inlining cutoff before its last operations; inlined late, they lost the vectors' exact class
   * and were boxed, in most JDK 17 runs (docs/benchmarks.md).
   */
  private static void half(long[] halves, int at) {
    LongVector bits = LongVector.fromArray(J, halves, at);
    // the float as a double, exactly (a subnormal as about 2^-127, whose e^t is 1 either way): the
    // sign to bit 63 and the rest to bits 29-59 (an arithmetic shift copies the sign into 60-62,
    // which are cleared), then the exponent rebiased; the sum cannot carry into the sign
    DoubleVector x = bits.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 3).and(CLEAR_V)
        .add(REBIAS_DOUBLE_V).viewAsFloatingLanes();
    // x = n ln 2 + r, |r| <= ln 2 / 2 (n * LN2_HI and x minus it are exact)
    DoubleVector shifted = x.mul(LOG2_E_V).add(ROUNDER_V);
    DoubleVector n = shifted.sub(ROUNDER_V);
    DoubleVector r = x.sub(n.mul(LN2_HI_V)).sub(n.mul(LN2_LO_V));
    // Horner, written out: a loop would carry p
    DoubleVector p = T11_V.fma(r, T10_V);
    p = p.fma(r, T9_V);
    p = p.fma(r, T8_V);
    p = p.fma(r, T7_V);
    p = p.fma(r, T6_V);
    p = p.fma(r, T5_V);
    p = p.fma(r, T4_V);
    p = p.fma(r, T3_V);
    p = p.fma(r, T2_V);
    p = p.fma(r, T1_V);
    p = p.fma(r, T0_V);
    // times 2^n, n into the exponent bits (p is within [0.7, 1.5], e^x a normal double): shifted's
    // bits are ROUNDER's plus n, and ROUNDER's low 12 bits are zero, so shifting them by 52 leaves n
    LongVector exponent = shifted.viewAsIntegralLanes().lanewise(VectorOperators.LSHL, 52);
    LongVector e = p.viewAsIntegralLanes().add(exponent);
    // dropped bits in [MIDPOINT - NEAR, MIDPOINT + NEAR) shift to 0: then all ones, NaN's bits kept
    LongVector near = e.and(DROPPED_V).sub(WINDOW_START_V).lanewise(VectorOperators.LSHR, WINDOW)
        .sub(ONE_V).lanewise(VectorOperators.ASHR, 63).and(NAN_V);
    e.add(MIDPOINT_V).lanewise(VectorOperators.LSHR, 29).sub(REBIAS_FLOAT_V).or(near).intoArray(halves, at);
  }

  private static void scalar(float[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      a[i] = (float) Math.exp(a[i]);
    }
  }
}
