package io.moeflink.jobs;

import io.moeflink.engine.kernel.BackendKind;

/** Parses {@code --backend} once, into a {@link BackendKind}, with the accepted names in the error. */
public final class BackendKindConverter extends ParsingConverter<BackendKind> {
  public BackendKindConverter() {
    super(BackendKind::parse);
  }
}
