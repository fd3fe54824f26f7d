package io.moeflink.engine.tokenizer;

import java.util.Arrays;

/**
 * The {@code merges} of a Hugging Face BPE: pair of ids to (rank, merged id), in an open-addressing
 * table of primitive longs (DeepSeek-V3 has 127,741 merges; a boxed map would be several times the
 * size and slower to probe).
 */
final class MergeList implements MergeRules {

  private static final long EMPTY = -1L;

  /** (left << 32 | right) per slot, or EMPTY. */
  private final long[] keys;
  /** The merge of the slot's pair. */
  private final long[] merges;
  private final int mask;
  private int size;

  MergeList(int expectedMerges) {
    int capacity = Integer.highestOneBit(Math.max(16, expectedMerges * 2 + 1) - 1) << 1;
    keys = new long[capacity];
    merges = new long[capacity];
    Arrays.fill(keys, EMPTY);
    mask = capacity - 1;
  }

  /**
   * Adds a merge; a pair listed twice keeps its later rank, as Hugging Face's map does.
   *
   * @throws IllegalStateException if more merges are added than the table was sized for
   */
  void put(int left, int right, int rank, int mergedId) {
    if (size * 2 >= keys.length) {
      throw new IllegalStateException("MergeList sized for " + keys.length / 2 + " merges is full");
    }
    long key = key(left, right);
    int slot = slot(key);
    while (keys[slot] != EMPTY && keys[slot] != key) {
      slot = (slot + 1) & mask;
    }
    if (keys[slot] == EMPTY) {
      size++;
    }
    keys[slot] = key;
    merges[slot] = MergeRules.of(rank, mergedId);
  }

  @Override
  public long merge(int left, int right) {
    long key = key(left, right);
    int slot = slot(key);
    while (true) {
      long k = keys[slot];
      if (k == key) {
        return merges[slot];
      }
      if (k == EMPTY) {
        return NO_MERGE;
      }
      slot = (slot + 1) & mask;
    }
  }

  int size() {
    return size;
  }

  private static long key(int left, int right) {
    return ((long) left << 32) | (right & 0xFFFFFFFFL);
  }

  private int slot(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 40) & mask;
  }
}
