package io.moeflink.jobs;

import io.moeflink.operators.admission.TenantWeights;

/** Parses {@code --tenant-weights a=3,b=1}. */
public final class TenantWeightsConverter extends ParsingConverter<TenantWeights> {
  public TenantWeightsConverter() {
    super(TenantWeights::parse);
  }
}
