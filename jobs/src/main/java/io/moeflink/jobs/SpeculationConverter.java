package io.moeflink.jobs;

import io.moeflink.engine.generate.Speculation;

/** Parses {@code --speculative}: {@code none} or {@code mtp}. */
public final class SpeculationConverter extends ParsingConverter<Speculation> {
  public SpeculationConverter() {
    super(Speculation::parse);
  }
}
