package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponential of the attention softmax and of SiLU: {@code e^x} defined by fifteen IEEE 754
 * float operations, so it has the same bits in scalar code, in vector lanes of any width, on any
 * JDK and CPU, and in the CUDA kernels ({@code float_exp.cuh}), which {@link Math#exp} does not
 * promise (its intrinsic may differ from the interpreter's by an ulp).
 *
 * <p>{@code x = n ln 2 + r} with {@code n = rint(x log2 e)} (the fused multiply-add with 1.5 *
 * 2^23 rounds it in its low bits) and {@code r} by two fused multiply-adds with ln 2 split in
 * two, {@code |r| <= ln(2) / 2}; {@code e^r} by its Taylor polynomial of degree 7 in Horner form,
 * fused, whose truncation error ({@code r^8 / 8!}, 5.7e-9 relative) lies under a float ulp; then
 * times {@code 2^n} built in the exponent bits. Within an ulp of {@code e^x}: 0.94 at most over
 * every float in range, and {@code (float) Math.exp} on all but 0.46% of them. Below {@link #LOW}
 * (where {@code e^x} leaves the normal floats) it is 0, above {@link #HIGH} infinity, NaN stays
 * NaN.
 *
 * <p>A fifth of the operations of rounding a double exponential to float, which the kernels did
 * before for {@code (float) Math.exp}'s bits: those exponentials had taken 8% of a 512-token
 * prefill's CPU samples (a fifth of its attention's, nine tenths of its SiLU's).
 */
final class FloatExp {
  /** Below this {@code e^x} is subnormal: the result is 0. */
  static final float LOW = -87.33f;
  /** Above this {@code 2^n} would not fit a float's exponent: the result is infinity. */
  static final float HIGH = 88.37f;

  private static final float LOG2_E = 1.44269504f;
  private static final float ROUNDER = 0x1.8p23f; // adding it rounds to an integer, in the low bits
  private static final float LN2_HI = 0.693145752f; // 16 significant bits: n * LN2_HI is exact
  private static final float LN2_LO = 1.42860677e-6f;
  private static final int BIAS = 127 << 23;
  // 1 / k!, k = 0 to 7, rounded to float
  private static final float T0 = 1f;
  private static final float T1 = 1f;
  private static final float T2 = 0.5f;
  private static final float T3 = 1f / 6;
  private static final float T4 = 1f / 24;
  private static final float T5 = 1f / 120;
  private static final float T6 = 1f / 720;
  private static final float T7 = 1f / 5040;

  private static final FloatVector LOW_V = FloatVector.broadcast(F, LOW);
  private static final FloatVector HIGH_V = FloatVector.broadcast(F, HIGH);
  private static final FloatVector ZERO_V = FloatVector.zero(F);
  private static final FloatVector INFINITY_V = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
  private static final FloatVector LOG2_E_V = FloatVector.broadcast(F, LOG2_E);
  private static final FloatVector ROUNDER_V = FloatVector.broadcast(F, ROUNDER);
  private static final FloatVector MINUS_LN2_HI_V = FloatVector.broadcast(F, -LN2_HI);
  private static final FloatVector MINUS_LN2_LO_V = FloatVector.broadcast(F, -LN2_LO);
  private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
  private static final IntVector BIAS_V = IntVector.broadcast(I, BIAS);
  private static final FloatVector T0_V = FloatVector.broadcast(F, T0);
  private static final FloatVector T1_V = FloatVector.broadcast(F, T1);
  private static final FloatVector T2_V = FloatVector.broadcast(F, T2);
  private static final FloatVector T3_V = FloatVector.broadcast(F, T3);
  private static final FloatVector T4_V = FloatVector.broadcast(F, T4);
  private static final FloatVector T5_V = FloatVector.broadcast(F, T5);
  private static final FloatVector T6_V = FloatVector.broadcast(F, T6);
  private static final FloatVector T7_V = FloatVector.broadcast(F, T7);

  private FloatExp() {}

  /** {@code e^x}, the operations {@link #lanes} runs, in the same order. */
  static float exp(float x) {
    float shifted = Math.fma(x, LOG2_E, ROUNDER);
    float n = shifted - ROUNDER;
    float r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    float p = Math.fma(T7, r, T6);
    p = Math.fma(p, r, T5);
    p = Math.fma(p, r, T4);
    p = Math.fma(p, r, T3);
    p = Math.fma(p, r, T2);
    p = Math.fma(p, r, T1);
    p = Math.fma(p, r, T0);
    // shifted's low bits hold n (two's complement, above ROUNDER's): shifted left by 23 they are
    // n's exponent field, which the bias makes 2^n
    float scale = Float.intBitsToFloat((Float.floatToRawIntBits(shifted) << 23) + BIAS);
    float e = p * scale;
    return x < LOW ? 0f : x > HIGH ? Float.POSITIVE_INFINITY : e;
  }

  /** {@link #exp} of every lane. */
  static FloatVector lanes(FloatVector x) {
    FloatVector shifted = x.fma(LOG2_E_V, ROUNDER_V);
    FloatVector n = shifted.sub(ROUNDER_V);
    FloatVector r = n.fma(MINUS_LN2_HI_V, x);
    r = n.fma(MINUS_LN2_LO_V, r);
    FloatVector p = T7_V.fma(r, T6_V);
    p = p.fma(r, T5_V);
    p = p.fma(r, T4_V);
    p = p.fma(r, T3_V);
    p = p.fma(r, T2_V);
    p = p.fma(r, T1_V);
    p = p.fma(r, T0_V);
    IntVector exponent = ((IntVector) shifted.viewAsIntegralLanes()).lanewise(VectorOperators.LSHL, 23);
    FloatVector scale = exponent.add(BIAS_V).viewAsFloatingLanes();
    FloatVector e = p.mul(scale);
    VectorMask<Float> low = x.compare(VectorOperators.LT, LOW_V);
    VectorMask<Float> high = x.compare(VectorOperators.GT, HIGH_V);
    return e.blend(ZERO_V, low).blend(INFINITY_V, high);
  }

  /** {@code a[i] = exp(a[i] - shift)} for {@code i} in {@code [from, to)}: the difference rounds, then {@link #exp}. */
  static void expShiftedInPlace(float[] a, float shift, int from, int to) {
    FloatVector minus = FloatVector.broadcast(F, shift);
    int i = from;
    for (int bound = from + F.loopBound(to - from); i < bound; i += L) {
      lanes(FloatVector.fromArray(F, a, i).sub(minus)).intoArray(a, i);
    }
    for (; i < to; i++) {
      a[i] = exp(a[i] - shift);
    }
  }
}
