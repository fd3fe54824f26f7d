package io.moeflink.engine.tokenizer;

/**
 * Which two adjacent symbols of a word merge, with what priority, into which token. A Hugging Face
 * BPE lists its merges ({@link MergeList}); a tiktoken vocabulary merges any pair whose
 * concatenation is a token, ranked by that token ({@link ConcatenationRanks}).
 */
interface MergeRules {

  /** What {@link #merge} answers for a pair that does not merge. */
  long NO_MERGE = -1L;

  /**
   * The merge of {@code left} followed by {@code right}: {@code (rank << 32) | mergedId}, lower
   * ranks first, or {@link #NO_MERGE}.
   */
  long merge(int left, int right);

  static int rank(long merge) {
    return (int) (merge >>> 32);
  }

  static int mergedId(long merge) {
    return (int) merge;
  }

  static long of(int rank, int mergedId) {
    return ((long) rank << 32) | (mergedId & 0xFFFFFFFFL);
  }
}
