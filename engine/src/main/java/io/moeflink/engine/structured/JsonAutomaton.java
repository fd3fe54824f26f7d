package io.moeflink.engine.structured;

import io.moeflink.engine.structured.SchemaNode.AnyNode;
import io.moeflink.engine.structured.SchemaNode.AnyObjectNode;
import io.moeflink.engine.structured.SchemaNode.ArrayNode;
import io.moeflink.engine.structured.SchemaNode.LiteralNode;
import io.moeflink.engine.structured.SchemaNode.NumberNode;
import io.moeflink.engine.structured.SchemaNode.ObjectNode;
import io.moeflink.engine.structured.SchemaNode.StringNode;
import io.moeflink.engine.structured.SchemaNode.UnionNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte-level automaton of the JSON texts that a {@link SchemaNode} accepts: compact JSON,
 * with at most one space after each {@code :} and {@code ,}, properties in the schema's order,
 * strings of valid UTF-8 with the short escapes ({@code \"} {@code \\} {@code \/} {@code \b}
 * {@code \f} {@code \n} {@code \r} {@code \t}, no {@code \\u}), numbers of at most {@value
 * #MAX_DIGITS} digits before and after the point and {@value #MAX_EXPONENT_DIGITS} in the
 * exponent. Bounded white space and digits keep every state one step from progress, so a
 * generation can always be closed in {@link #distance} more bytes.
 *
 * <p>A state is an immutable stack of {@link Frame}s (records, so equal states are equal
 * objects and can be interned); a schema without {@code $ref} nests finitely, so a schema has
 * finitely many states.
 */
final class JsonAutomaton {

  static final int MAX_DIGITS = 15;
  static final int MAX_EXPONENT_DIGITS = 2;

  /** The stack of frames, innermost first; {@link #DONE} when the value is complete. */
  record State(Frame top, State below) {}

  /** The whole value has been written; nothing may follow. */
  static final State DONE = new State(null, null);

  /** Marker: the top frame ends before this byte, which belongs to the frame below. */
  private static final State ENDS_BEFORE = new State(null, null);

  sealed interface Frame {}

  /** A value of {@code node} is expected; no byte of it is written yet. */
  record Value(SchemaNode node) implements Frame {}

  /**
   * Inside a string, after its opening quote.
   *
   * @param count characters so far, capped at {@link StringNode#countCap()}
   * @param pending continuation bytes still owed by a multi-byte character
   * @param lo the smallest byte the next continuation byte may be
   * @param hi the largest
   * @param escape whether a backslash was just written
   */
  record Str(StringNode node, int count, int pending, int lo, int hi, boolean escape) implements Frame {}

  /** Inside a number: its phase and the digits of the current part. */
  record Num(boolean integer, int phase, int digits) implements Frame {}

  /** Inside a literal: the candidates that agree with the {@code matched} bytes written. */
  record Lit(List<String> candidates, int matched) implements Frame {}

  /**
   * Inside an object of the schema.
   *
   * @param next the first property that may still be written
   * @param lead while a key or value is written, its property (the first that fits the key so far)
   * @param matched bytes of the key written
   */
  record Obj(ObjectNode node, int phase, int next, int lead, int matched) implements Frame {}

  /** Inside an object with any keys; its values nest at most {@code depthLeft} more levels. */
  record AnyObj(int depthLeft, int phase) implements Frame {}

  /** Inside an array: {@code count} items written, capped at {@link ArrayNode#countCap()}. */
  record Arr(ArrayNode node, int phase, int count) implements Frame {}

  // Number phases
  private static final int START = 0;
  private static final int MINUS = 1;
  private static final int ZERO = 2;
  private static final int INT = 3;
  private static final int DOT = 4;
  private static final int FRAC = 5;
  private static final int EXP_MARK = 6;
  private static final int EXP_SIGN = 7;
  private static final int EXP = 8;

  // Object and array phases
  private static final int OPEN = 0;
  private static final int COMMA = 1; // just after ',': a space may follow
  private static final int KEY_START = 2; // a key's quote must follow
  private static final int KEY = 3;
  private static final int COLON = 4;
  private static final int VALUE_SPACE = 5; // just after ':': a space may follow
  private static final int VALUE = 6;
  private static final int AFTER_VALUE = 7;
  private static final int ITEM = 8; // an array item must start

  private static final StringNode ANY_STRING = new StringNode(0, -1);
  private static final List<String> ANY_LITERALS = List.of("true", "false", "null");

  private JsonAutomaton() {}

  static State start(SchemaNode root) {
    return new State(new Value(root), null);
  }

  /** The state after byte {@code b} (0-255), or null if {@code b} cannot come next. */
  static State step(State s, int b) {
    State state = s;
    while (true) {
      if (state.top() == null) {
        return null; // nothing follows a complete value
      }
      State next = feed(state, b);
      if (next != ENDS_BEFORE) {
        return next;
      }
      state = pop(state);
    }
  }

  /** Whether the text so far is a complete value. */
  static boolean accepting(State s) {
    return s.top() == null || s.below() == null && canEnd(s.top());
  }

  /**
   * The fewest bytes that turn the text so far into a complete value. Some byte always lowers it
   * by one, so following the lowest choice closes the value in exactly this many bytes.
   */
  static int distance(State s) {
    int d = 0;
    for (State f = s; f != null && f.top() != null; f = f.below()) {
      d += rest(f.top());
    }
    return d;
  }

  private static State pop(State s) {
    return s.below() == null ? DONE : s.below();
  }

  private static State replace(State s, Frame f) {
    return new State(f, s.below());
  }

  /** Starts a child value above {@code parent} (the parent's phase for after it) and feeds it. */
  private static State startChild(State s, Frame parent, SchemaNode child, int b) {
    return feed(new State(new Value(child), new State(parent, s.below())), b);
  }

  private static State feed(State s, int b) {
    Frame f = s.top();
    if (f instanceof Value v) {
      return value(s, v.node(), b);
    } else if (f instanceof Str str) {
      return string(s, str, b);
    } else if (f instanceof Num num) {
      return number(s, num, b);
    } else if (f instanceof Lit lit) {
      return literal(s, lit, b);
    } else if (f instanceof Obj obj) {
      return object(s, obj, b);
    } else if (f instanceof AnyObj any) {
      return anyObject(s, any, b);
    }
    return array(s, (Arr) f, b);
  }

  private static State value(State s, SchemaNode node, int b) {
    if (node instanceof StringNode n) {
      return b == '"' ? replace(s, new Str(n, 0, 0, 0, 0, false)) : null;
    } else if (node instanceof NumberNode n) {
      return number(s, new Num(n.integer(), START, 0), b);
    } else if (node instanceof LiteralNode n) {
      return literal(s, new Lit(n.literals(), 0), b);
    } else if (node instanceof ObjectNode n) {
      return b == '{' ? replace(s, new Obj(n, OPEN, 0, -1, 0)) : null;
    } else if (node instanceof ArrayNode n) {
      return b == '[' ? replace(s, new Arr(n, OPEN, 0)) : null;
    } else if (node instanceof AnyObjectNode n) {
      return b == '{' ? replace(s, new AnyObj(n.depthLeft(), OPEN)) : null;
    } else if (node instanceof AnyNode n) {
      return anyValue(s, n.depthLeft(), b);
    }
    for (SchemaNode option : ((UnionNode) node).options()) {
      State next = value(s, option, b);
      if (next != null) {
        return next;
      }
    }
    return null;
  }

  private static State anyValue(State s, int depthLeft, int b) {
    if (b == '{' || b == '[') {
      if (depthLeft == 0) {
        return null;
      }
      return b == '{'
          ? replace(s, new AnyObj(depthLeft - 1, OPEN))
          : replace(s, new Arr(new ArrayNode(new AnyNode(depthLeft - 1), 0, -1), OPEN, 0));
    }
    if (b == '"') {
      return replace(s, new Str(ANY_STRING, 0, 0, 0, 0, false));
    }
    if (b == '-' || isDigit(b)) {
      return number(s, new Num(false, START, 0), b);
    }
    return literal(s, new Lit(ANY_LITERALS, 0), b);
  }

  private static State string(State s, Str f, int b) {
    StringNode n = f.node();
    if (f.pending() > 0) {
      return b >= f.lo() && b <= f.hi() ? replace(s, new Str(n, f.count(), f.pending() - 1, 0x80, 0xBF, false)) : null;
    }
    if (f.escape()) {
      return "\"\\/bfnrt".indexOf(b) >= 0 ? replace(s, new Str(n, f.count(), 0, 0, 0, false)) : null;
    }
    if (b == '"') {
      return f.count() >= n.minChars() ? pop(s) : null;
    }
    if (n.maxLength() >= 0 && f.count() >= n.maxLength()) {
      return null;
    }
    int count = Math.min(f.count() + 1, n.countCap());
    if (b == '\\') {
      return replace(s, new Str(n, count, 0, 0, 0, true));
    }
    if (b < 0x20) {
      return null; // control characters must be escaped
    }
    if (b < 0x80) {
      return replace(s, new Str(n, count, 0, 0, 0, false));
    }
    // the lead byte of a UTF-8 sequence: how many continuation bytes, and the first one's range
    // (no overlong forms, no surrogates, nothing above U+10FFFF)
    int pending;
    int lo = 0x80;
    int hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      pending = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      pending = 2;
      lo = b == 0xE0 ? 0xA0 : 0x80;
      hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
      pending = 3;
      lo = b == 0xF0 ? 0x90 : 0x80;
      hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
      return null;
    }
    return replace(s, new Str(n, count, pending, lo, hi, false));
  }

  private static State number(State s, Num f, int b) {
    boolean digit = isDigit(b);
    boolean exponent = (b == 'e' || b == 'E') && !f.integer();
    Num next = switch (f.phase()) {
      case START -> b == '-' ? num(f, MINUS, 0) : b == '0' ? num(f, ZERO, 1) : digit ? num(f, INT, 1) : null;
      case MINUS -> b == '0' ? num(f, ZERO, 1) : digit ? num(f, INT, 1) : null;
      case ZERO, INT -> {
        if (digit && f.phase() == INT && f.digits() < MAX_DIGITS) {
          yield num(f, INT, f.digits() + 1);
        }
        yield b == '.' && !f.integer() ? num(f, DOT, 0) : exponent ? num(f, EXP_MARK, 0) : null;
      }
      case DOT -> digit ? num(f, FRAC, 1) : null;
      case FRAC -> digit && f.digits() < MAX_DIGITS ? num(f, FRAC, f.digits() + 1) : exponent ? num(f, EXP_MARK, 0) : null;
      case EXP_MARK -> b == '+' || b == '-' ? num(f, EXP_SIGN, 0) : digit ? num(f, EXP, 1) : null;
      case EXP_SIGN -> digit ? num(f, EXP, 1) : null;
      case EXP -> digit && f.digits() < MAX_EXPONENT_DIGITS ? num(f, EXP, f.digits() + 1) : null;
      default -> throw new IllegalStateException("number phase " + f.phase());
    };
    if (next != null) {
      return replace(s, next);
    }
    return canEnd(f) ? ENDS_BEFORE : null;
  }

  private static Num num(Num f, int phase, int digits) {
    return new Num(f.integer(), phase, digits);
  }

  private static State literal(State s, Lit f, int b) {
    List<String> narrowed = new ArrayList<>(f.candidates().size());
    for (String c : f.candidates()) {
      if (c.length() > f.matched() && c.charAt(f.matched()) == b) {
        narrowed.add(c);
      }
    }
    if (narrowed.isEmpty()) {
      return canEnd(f) ? ENDS_BEFORE : null;
    }
    int matched = f.matched() + 1;
    if (narrowed.size() == 1 && narrowed.get(0).length() == matched) {
      return pop(s); // the only candidate is complete: nothing can extend it
    }
    return replace(s, new Lit(List.copyOf(narrowed), matched));
  }

  private static State object(State s, Obj f, int b) {
    ObjectNode n = f.node();
    switch (f.phase()) {
      case OPEN:
        if (b == '}' && !n.hasRequiredFrom(0)) {
          return pop(s);
        }
        return b == '"' && !n.properties().isEmpty() ? replace(s, new Obj(n, KEY, 0, 0, 1)) : null;
      case COMMA:
        if (b == ' ') {
          return replace(s, new Obj(n, KEY_START, f.next(), -1, 0));
        }
        return b == '"' ? replace(s, new Obj(n, KEY, f.next(), f.next(), 1)) : null;
      case KEY_START:
        return b == '"' ? replace(s, new Obj(n, KEY, f.next(), f.next(), 1)) : null;
      case KEY: {
        String lead = n.properties().get(f.lead()).key();
        for (int c = f.lead(); c <= n.lastCandidate(f.next()); c++) {
          String key = n.properties().get(c).key();
          if (key.length() > f.matched() && key.charAt(f.matched()) == b && key.regionMatches(0, lead, 0, f.matched())) {
            boolean complete = key.length() == f.matched() + 1;
            return replace(s, new Obj(n, complete ? COLON : KEY, f.next(), c, f.matched() + 1));
          }
        }
        return null;
      }
      case COLON:
        return b == ':' ? replace(s, new Obj(n, VALUE_SPACE, f.next(), f.lead(), 0)) : null;
      case VALUE_SPACE:
        if (b == ' ') {
          return replace(s, new Obj(n, VALUE, f.next(), f.lead(), 0));
        }
        return startChild(s, new Obj(n, AFTER_VALUE, f.lead() + 1, -1, 0), n.properties().get(f.lead()).value(), b);
      case VALUE:
        return startChild(s, new Obj(n, AFTER_VALUE, f.lead() + 1, -1, 0), n.properties().get(f.lead()).value(), b);
      case AFTER_VALUE:
        if (b == ',' && f.next() < n.properties().size()) {
          return replace(s, new Obj(n, COMMA, f.next(), -1, 0));
        }
        return b == '}' && !n.hasRequiredFrom(f.next()) ? pop(s) : null;
      default:
        throw new IllegalStateException("object phase " + f.phase());
    }
  }

  private static State anyObject(State s, AnyObj f, int b) {
    int d = f.depthLeft();
    switch (f.phase()) {
      case OPEN:
        return b == '}' ? pop(s) : b == '"' ? key(s, d) : null;
      case COMMA:
        return b == ' ' ? replace(s, new AnyObj(d, KEY_START)) : b == '"' ? key(s, d) : null;
      case KEY_START:
        return b == '"' ? key(s, d) : null;
      case COLON:
        return b == ':' ? replace(s, new AnyObj(d, VALUE_SPACE)) : null;
      case VALUE_SPACE:
        return b == ' ' ? replace(s, new AnyObj(d, VALUE)) : startChild(s, new AnyObj(d, AFTER_VALUE), new AnyNode(d), b);
      case VALUE:
        return startChild(s, new AnyObj(d, AFTER_VALUE), new AnyNode(d), b);
      case AFTER_VALUE:
        return b == ',' ? replace(s, new AnyObj(d, COMMA)) : b == '}' ? pop(s) : null;
      default:
        throw new IllegalStateException("object phase " + f.phase());
    }
  }

  /** A key's opening quote was written: the key string, then a colon. */
  private static State key(State s, int depthLeft) {
    return new State(new Str(ANY_STRING, 0, 0, 0, 0, false), new State(new AnyObj(depthLeft, COLON), s.below()));
  }

  private static State array(State s, Arr f, int b) {
    ArrayNode n = f.node();
    boolean more = n.maxItems() < 0 || f.count() < n.maxItems();
    switch (f.phase()) {
      case OPEN:
        if (b == ']' && n.minItems() == 0) {
          return pop(s);
        }
        return more ? item(s, f, b) : null;
      case AFTER_VALUE:
        if (b == ',' && more) {
          return replace(s, new Arr(n, COMMA, f.count()));
        }
        return b == ']' && f.count() >= n.minItems() ? pop(s) : null;
      case COMMA:
        return b == ' ' ? replace(s, new Arr(n, ITEM, f.count())) : item(s, f, b);
      case ITEM:
        return item(s, f, b);
      default:
        throw new IllegalStateException("array phase " + f.phase());
    }
  }

  private static State item(State s, Arr f, int b) {
    Arr after = new Arr(f.node(), AFTER_VALUE, Math.min(f.count() + 1, f.node().countCap()));
    return startChild(s, after, f.node().items(), b);
  }

  private static boolean canEnd(Frame f) {
    if (f instanceof Num n) {
      return n.phase() == ZERO || n.phase() == INT || n.phase() == FRAC || n.phase() == EXP;
    }
    if (f instanceof Lit l) {
      for (String c : l.candidates()) {
        if (c.length() == l.matched()) {
          return true;
        }
      }
    }
    return false;
  }

  /** The fewest bytes that close frame {@code f}, the frames above it being closed. */
  private static int rest(Frame f) {
    if (f instanceof Value v) {
      return v.node().minLength();
    } else if (f instanceof Str str) {
      return (str.escape() ? 1 : 0) + str.pending() + Math.max(0, str.node().minChars() - str.count()) + 1;
    } else if (f instanceof Num n) {
      return canEnd(n) ? 0 : 1;
    } else if (f instanceof Lit l) {
      return l.candidates().stream().mapToInt(c -> c.length() - l.matched()).min().orElseThrow();
    } else if (f instanceof Obj o) {
      return objectRest(o);
    } else if (f instanceof AnyObj a) {
      return switch (a.phase()) {
        case OPEN, AFTER_VALUE -> 1; // }
        case COMMA, KEY_START -> 5; // "":0}
        case COLON -> 3; // :0}
        default -> 2; // 0}
      };
    }
    return arrayRest((Arr) f);
  }

  private static int objectRest(Obj o) {
    ObjectNode n = o.node();
    return switch (o.phase()) {
      case OPEN -> n.hasRequiredFrom(0) ? firstProperty(n, o.next(), -1, 0) : 1;
      case COMMA, KEY_START -> firstProperty(n, o.next(), -1, 0);
      case KEY -> firstProperty(n, o.next(), o.lead(), o.matched());
      case COLON -> 1 + n.properties().get(o.lead()).value().minLength() + n.tail(o.lead() + 1);
      case VALUE_SPACE, VALUE -> n.properties().get(o.lead()).value().minLength() + n.tail(o.lead() + 1);
      case AFTER_VALUE -> n.tail(o.next());
      default -> throw new IllegalStateException("object phase " + o.phase());
    };
  }

  /**
   * The fewest bytes to write one more property (the rest of its key, its colon and value) and
   * then close the object, over the candidates that agree with the {@code matched} key bytes of
   * {@code lead}'s key.
   */
  private static int firstProperty(ObjectNode n, int from, int lead, int matched) {
    int best = Integer.MAX_VALUE;
    String prefix = lead < 0 ? "" : n.properties().get(lead).key().substring(0, matched);
    for (int c = from; c <= n.lastCandidate(from); c++) {
      SchemaNode.Property p = n.properties().get(c);
      if (p.key().startsWith(prefix)) {
        best = Math.min(best, p.key().length() - matched + 1 + p.value().minLength() + n.tail(c + 1));
      }
    }
    return best;
  }

  private static int arrayRest(Arr a) {
    ArrayNode n = a.node();
    int item = n.items().minLength();
    return switch (a.phase()) {
      case OPEN -> n.minLength() - 1;
      case AFTER_VALUE -> Math.max(0, n.minItems() - a.count()) * (1 + item) + 1;
      case COMMA, ITEM -> item + Math.max(0, n.minItems() - a.count() - 1) * (1 + item) + 1;
      default -> throw new IllegalStateException("array phase " + a.phase());
    };
  }

  private static boolean isDigit(int b) {
    return b >= '0' && b <= '9';
  }
}
