package io.moeflink.engine.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's {@code str.split} for chat templates: Jinjava would call Java's {@code
 * String.split(regex, limit)}, which reads the separator as a regex, drops trailing empty parts,
 * and counts parts where Python counts splits. DeepSeek-V3.1's template keeps the answer of an
 * earlier turn with {@code content.split('</think>', 1)[1]}, R1's with {@code
 * content.split('</think>')[-1]}: both need Python's meaning. Every other call falls through to
 * Jinjava's own resolvers.
 */
final class PythonStringMethods extends ELResolver {

  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
    if (!(base instanceof String s) || !"split".equals(method) || params == null || params.length > 2) {
      return null;
    }
    if (params.length == 0 || params[0] == null) {
      context.setPropertyResolved(true);
      String trimmed = s.strip();
      return trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
    }
    int maxSplits = params.length == 2 && params[1] instanceof Number n ? n.intValue() : -1;
    context.setPropertyResolved(true);
    return split(s, String.valueOf(params[0]), maxSplits);
  }

  /** {@code s.split(sep, maxSplits)} as Python computes it; a negative count splits everywhere. */
  static String[] split(String s, String sep, int maxSplits) {
    if (sep.isEmpty()) {
      throw new ChatTemplateException("split() was given an empty separator", null);
    }
    List<String> parts = new ArrayList<>();
    int from = 0;
    int at;
    while ((maxSplits < 0 || parts.size() < maxSplits) && (at = s.indexOf(sep, from)) >= 0) {
      parts.add(s.substring(from, at));
      from = at + sep.length();
    }
    parts.add(s.substring(from));
    return parts.toArray(new String[0]);
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return Collections.emptyIterator();
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}
}
