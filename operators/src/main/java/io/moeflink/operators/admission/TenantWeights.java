package io.moeflink.operators.admission;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How sequence slots are shared between tenants whose requests wait: in proportion to their
 * weights. Tenants not named (and requests without a tenant) weigh {@link #DEFAULT_WEIGHT}.
 *
 * @param weights weight by tenant name, each at least 1
 */
public record TenantWeights(Map<String, Integer> weights) implements Serializable {
  /** The weight of a tenant the option does not name. */
  public static final int DEFAULT_WEIGHT = 1;

  /** Every tenant weighs the same. */
  public static final TenantWeights EQUAL = new TenantWeights(Map.of());

  public TenantWeights {
    weights.forEach((tenant, w) -> {
      if (w == null || w < 1) {
        throw new IllegalArgumentException("Tenant " + tenant + " has weight " + w + "; expected a whole number of at least 1");
      }
    });
    weights = Map.copyOf(weights);
  }

  /**
   * Parses {@code a=3,b=1}; blank means equal weights.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code tenant=weight}
   */
  public static TenantWeights parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return EQUAL;
    }
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (String entry : spec.split(",")) {
      int eq = entry.indexOf('=');
      String tenant = eq < 0 ? "" : entry.substring(0, eq).trim();
      int weight;
      try {
        weight = eq < 0 ? -1 : Integer.parseInt(entry.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        weight = -1;
      }
      if (tenant.isEmpty() || weight < 1) {
        throw new IllegalArgumentException("--tenant-weights entry \"" + entry.trim()
            + "\" is not tenant=weight with a whole weight of at least 1 (example: a=3,b=1)");
      }
      if (weights.put(tenant, weight) != null) {
        throw new IllegalArgumentException("--tenant-weights names tenant " + tenant + " twice");
      }
    }
    return new TenantWeights(weights);
  }

  /** The weight of {@code tenant} ({@code ""} for requests without one). */
  public int weight(String tenant) {
    return weights.getOrDefault(tenant, DEFAULT_WEIGHT);
  }
}
