package io.moeflink.engine.kernel;

/**
 * The routed experts' raw outputs for a MoE combine, as they arrived from the shards: token {@code
 * t}'s {@code j}-th expert (ascending expert id) has weight {@code weights[t * k + j]} and its
 * output row is row {@code rowOf[t * k + j]} of {@code sources[sourceOf[t * k + j]]}.
 *
 * @param sources per shard, its result rows {@code (pairs, D)}; null for shards not involved
 */
public record ExpertOutputs(int tokens, int k, float[] weights, float[][] sources, int[] sourceOf, int[] rowOf) {

  public ExpertOutputs {
    int pairs = Math.multiplyExact(tokens, k);
    if (weights.length != pairs || sourceOf.length != pairs || rowOf.length != pairs) {
      throw new IllegalArgumentException(
          "Expert outputs for " + tokens + " tokens x " + k + " experts need " + pairs + " weights, sources and rows; got "
              + weights.length + ", " + sourceOf.length + " and " + rowOf.length);
    }
  }
}
