package io.moeflink.operators.admission;

import java.io.Serializable;

/**
 * How a generation subtask orders the requests that wait for a sequence slot: higher priority
 * first, FIFO within a priority, slots shared between the tenants of one priority by weight.
 *
 * @param maxWaiting requests a subtask holds waiting beyond its sequences in flight; when full,
 *     it back-pressures its input. Waiting requests are checkpointed (their order survives a
 *     restore), so this bounds the state too.
 * @param tenantWeights the tenants' shares of the slots
 */
public record AdmissionOrder(int maxWaiting, TenantWeights tenantWeights) implements Serializable {

  /** 256 waiting requests per subtask, equal tenants. */
  public static final AdmissionOrder DEFAULT = new AdmissionOrder(256, TenantWeights.EQUAL);

  public AdmissionOrder {
    if (maxWaiting < 1) {
      throw new IllegalArgumentException("maxWaiting is " + maxWaiting + ", expected at least 1");
    }
    if (tenantWeights == null) {
      throw new IllegalArgumentException("tenantWeights must not be null (TenantWeights.EQUAL for equal shares)");
    }
  }
}
