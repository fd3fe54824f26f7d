package io.moeflink.engine.structured;

import io.moeflink.engine.structured.JsonAutomaton.State;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A response format's byte automaton lifted to a vocabulary: which tokens each state allows (a
 * token is allowed iff all its bytes are accepted in sequence from that state) and where they
 * lead. States are interned to ids as they are reached; byte transitions and allowed-token sets
 * are computed the first time a state needs them and kept, so a schema costs its full price once
 * per subtask and one table lookup per byte afterwards.
 *
 * <p>Shared by all sequences of a subtask with the same format; synchronized, since admission and
 * generation may reach it from different threads.
 */
public final class TokenConstraint {

  private static final int UNKNOWN = -2;
  private static final int REJECTED = -1;
  private static final int BYTES = 256;

  private final ResponseFormat format;
  private final TokenVocabulary vocabulary;
  private final Map<State, Integer> ids = new HashMap<>();
  private final List<State> states = new ArrayList<>();
  /** (states, 256) the state after each byte, {@link #UNKNOWN} until asked. */
  private final List<int[]> transitions = new ArrayList<>();
  /** (states) the allowed tokens of each state, null until asked. */
  private final List<Mask> masks = new ArrayList<>();
  private final int start;

  /**
   * The tokens a state allows.
   *
   * @param allowed (ceil(tokens / 64)) bit {@code id} set iff token {@code id} is allowed
   * @param count how many are allowed
   * @param maxDistance the largest {@link #distance} among the states they lead to
   * @param accepting whether the text so far is a complete value (stop tokens may end it)
   * @param complete whether nothing but a stop may follow
   */
  record Mask(long[] allowed, int count, int maxDistance, boolean accepting, boolean complete) {
    boolean allows(int token) {
      return token >>> 6 < allowed.length && (allowed[token >>> 6] & 1L << token) != 0;
    }
  }

  TokenConstraint(ResponseFormat format, TokenVocabulary vocabulary) {
    this.format = format;
    this.vocabulary = vocabulary;
    this.start = intern(JsonAutomaton.start(format.root()));
  }

  public ResponseFormat format() {
    return format;
  }

  /** The state before any token. */
  int start() {
    return start;
  }

  /** The state after token {@code token}, or -1 if the token is not allowed there. */
  synchronized int advance(int state, int token) {
    byte[] bytes = vocabulary.bytes(token);
    if (bytes == null) {
      return REJECTED;
    }
    int s = state;
    for (byte b : bytes) {
      s = step(s, b & 0xFF);
      if (s == REJECTED) {
        return REJECTED;
      }
    }
    return s;
  }

  /** The fewest bytes that complete the value from {@code state}. */
  synchronized int distance(int state) {
    return JsonAutomaton.distance(states.get(state));
  }

  /** The tokens {@code state} allows, computed on first use. */
  synchronized Mask mask(int state) {
    Mask m = masks.get(state);
    if (m == null) {
      m = computeMask(state);
      masks.set(state, m);
    }
    return m;
  }

  /** How many states have been reached so far (for tests and the bench). */
  synchronized int statesReached() {
    return states.size();
  }

  private Mask computeMask(int state) {
    long[] allowed = new long[(vocabulary.size() + 63) >>> 6];
    int count = 0;
    int maxDistance = 0;
    Map<Integer, Integer> distances = new HashMap<>();
    for (int id = 0; id < vocabulary.size(); id++) {
      int end = advance(state, id);
      if (end >= 0) {
        allowed[id >>> 6] |= 1L << id;
        count++;
        maxDistance = Math.max(maxDistance, distances.computeIfAbsent(end, this::distance));
      }
    }
    boolean accepting = JsonAutomaton.accepting(states.get(state));
    boolean complete = accepting;
    for (int b = 0; b < BYTES && complete; b++) {
      complete = step(state, b) == REJECTED;
    }
    return new Mask(allowed, count, maxDistance, accepting, complete);
  }

  private int step(int state, int b) {
    int[] row = transitions.get(state);
    int next = row[b];
    if (next == UNKNOWN) {
      State after = JsonAutomaton.step(states.get(state), b);
      next = after == null ? REJECTED : intern(after);
      row = transitions.get(state); // interning may have grown the lists, never this row
      row[b] = next;
    }
    return next;
  }

  private int intern(State s) {
    Integer id = ids.get(s);
    if (id != null) {
      return id;
    }
    int[] row = new int[BYTES];
    Arrays.fill(row, UNKNOWN);
    states.add(s);
    transitions.add(row);
    masks.add(null);
    ids.put(s, states.size() - 1);
    return states.size() - 1;
  }
}
