package io.moeflink.jobs;

import io.moeflink.operators.routing.RequestRouting;

/** Parses {@code --routing}: {@code forward} or {@code prefix}. */
public final class RoutingConverter extends ParsingConverter<RequestRouting> {
  public RoutingConverter() {
    super(RequestRouting::parse);
  }
}
