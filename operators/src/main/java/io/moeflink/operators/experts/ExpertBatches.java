package io.moeflink.operators.experts;

import io.moeflink.engine.model.ExpertBatch;
import io.moeflink.engine.model.ExpertResult;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins batches of one layer from several generation subtasks into one, so that each expert's
 * weights are read once for all of them, and splits the result back. Every token row is computed
 * independently, so joining never changes a number.
 */
final class ExpertBatches {
  private ExpertBatches() {}

  static ExpertBatch merge(List<ExpertBatch> batches, int hidden) {
    if (batches.size() == 1) {
      return batches.get(0);
    }
    int tokens = 0;
    int pairs = 0;
    for (ExpertBatch b : batches) {
      tokens += b.tokens();
      pairs += b.pairs();
    }
    float[] x = new float[tokens * hidden];
    int[] offsets = new int[tokens + 1];
    int[] ids = new int[pairs];
    int t = 0;
    int p = 0;
    for (ExpertBatch b : batches) {
      System.arraycopy(b.hidden(), 0, x, t * hidden, b.tokens() * hidden);
      for (int i = 0; i < b.tokens(); i++) {
        offsets[t + i] = p + b.expertOffsets()[i];
      }
      System.arraycopy(b.expertIds(), 0, ids, p, b.pairs());
      t += b.tokens();
      p += b.pairs();
    }
    offsets[tokens] = pairs;
    return new ExpertBatch(batches.get(0).layer(), tokens, x, offsets, ids);
  }

  static List<ExpertResult> split(ExpertResult merged, List<ExpertBatch> batches, int hidden) {
    List<ExpertResult> out = new ArrayList<>(batches.size());
    if (batches.size() == 1) {
      out.add(merged);
      return out;
    }
    int p = 0;
    for (ExpertBatch b : batches) {
      float[] rows = new float[b.pairs() * hidden];
      System.arraycopy(merged.outputs(), p * hidden, rows, 0, rows.length);
      out.add(new ExpertResult(b.layer(), b.pairs(), rows));
      p += b.pairs();
    }
    return out;
  }
}
