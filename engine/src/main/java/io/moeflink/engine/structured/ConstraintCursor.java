package io.moeflink.engine.structured;

import java.util.Arrays;
import java.util.Set;

/**
 * Where one sequence stands in its constraint's automaton. It is a function of the tokens
 * generated so far, so a sequence restored from a snapshot replays them and stands where it
 * stood.
 */
public final class ConstraintCursor {
  private final TokenConstraint constraint;
  /** Tokens that end the sequence; allowed once the value is complete. */
  private final Set<Integer> stopTokenIds;
  private int state;

  public ConstraintCursor(TokenConstraint constraint, Set<Integer> stopTokenIds) {
    this.constraint = constraint;
    this.stopTokenIds = stopTokenIds;
    this.state = constraint.start();
  }

  /**
   * The logits with every token the constraint forbids set to -Infinity: tokens whose bytes do not
   * continue the value, and stop tokens before the value is complete. When fewer tokens remain
   * than an allowed token could leave bytes to write, only tokens after which the value can still
   * be completed within {@code remainingTokens} are kept (a byte per token at worst), so that a
   * completion that can be closed in time is; when none is, those that leave the fewest bytes
   * (tokens of several bytes may still close it, else it ends by length).
   *
   * @param remainingTokens tokens that may still be generated, this one included
   * @return the masked copy, or null when no token can continue (a vocabulary without some byte)
   */
  public float[] mask(float[] logits, int remainingTokens) {
    TokenConstraint.Mask m = constraint.mask(state);
    float[] out = new float[logits.length];
    int budget = remainingTokens - 1; // bytes that the tokens after this one can surely write
    int kept = 0;
    if (budget < m.maxDistance()) {
      Arrays.fill(out, Float.NEGATIVE_INFINITY);
      kept = copyAllowed(m, logits, out, Math.max(budget, closestDistance(m)));
    }
    if (kept == 0) { // no token could leave too much
      kept = copyAllowed(m, logits, out);
    }
    if (m.accepting()) {
      for (int stop : stopTokenIds) {
        if (stop < logits.length) {
          out[stop] = logits[stop];
          kept++;
        }
      }
    }
    return kept == 0 ? null : out;
  }

  /** Every allowed token's logit, -Infinity for the others. */
  private int copyAllowed(TokenConstraint.Mask m, float[] logits, float[] out) {
    long[] allowed = m.allowed();
    int covered = Math.min(logits.length, allowed.length << 6);
    if (m.count() < covered / 2) { // few allowed: fill, then copy them
      Arrays.fill(out, Float.NEGATIVE_INFINITY);
      return copyAllowed(m, logits, out, Integer.MAX_VALUE);
    }
    // copy all, then mask the forbidden: one pass of array copy plus the zero bits
    System.arraycopy(logits, 0, out, 0, covered);
    Arrays.fill(out, covered, out.length, Float.NEGATIVE_INFINITY);
    for (int w = 0; w < allowed.length; w++) {
      for (long bits = ~allowed[w]; bits != 0; bits &= bits - 1) {
        int id = (w << 6) + Long.numberOfTrailingZeros(bits);
        if (id >= covered) {
          break;
        }
        out[id] = Float.NEGATIVE_INFINITY;
      }
    }
    return Math.min(m.count(), covered);
  }

  /** The fewest bytes any allowed token leaves to write. */
  private int closestDistance(TokenConstraint.Mask m) {
    int best = Integer.MAX_VALUE;
    long[] allowed = m.allowed();
    for (int w = 0; w < allowed.length; w++) {
      for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
        best = Math.min(best, constraint.distance(constraint.advance(state, (w << 6) + Long.numberOfTrailingZeros(bits))));
      }
    }
    return best;
  }

  /** The allowed tokens after which the value can be closed in {@code maxDistance} bytes. */
  private int copyAllowed(TokenConstraint.Mask m, float[] logits, float[] out, int maxDistance) {
    int kept = 0;
    long[] allowed = m.allowed();
    for (int w = 0; w < allowed.length; w++) {
      for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
        int id = (w << 6) + Long.numberOfTrailingZeros(bits);
        if (id < logits.length
            && (maxDistance == Integer.MAX_VALUE || constraint.distance(constraint.advance(state, id)) <= maxDistance)) {
          out[id] = logits[id];
          kept++;
        }
      }
    }
    return kept;
  }

  /** Moves past a chosen token; a stop token leaves the state as it is. */
  public void advance(int token) {
    int next = constraint.advance(state, token);
    if (next >= 0) {
      state = next;
    } else if (!stopTokenIds.contains(token)) {
      throw new IllegalStateException("Token " + token + " does not continue the " + constraint.format().canonical()
          + " value (state " + state + ")");
    }
  }

  /** Whether the value is complete and nothing may follow it. */
  public boolean complete() {
    return constraint.mask(state).complete();
  }
}
