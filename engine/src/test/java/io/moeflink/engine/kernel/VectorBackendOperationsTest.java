package io.moeflink.engine.kernel;

import org.junit.jupiter.api.AfterAll;

/** The Vector API backend's operations against the scalar reference. */
class VectorBackendOperationsTest extends BackendOperationsContract {
  private static final VectorBackend VECTOR = new VectorBackend(2);

  @Override
  protected KernelBackend backend() {
    return VECTOR;
  }

  @AfterAll
  static void close() {
    VECTOR.close();
  }
}
