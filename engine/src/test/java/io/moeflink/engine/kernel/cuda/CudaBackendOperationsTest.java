package io.moeflink.engine.kernel.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeflink.engine.kernel.BackendOperationsContract;
import io.moeflink.engine.kernel.KernelBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * Every CUDA kernel, through the backend's operations on device activations, against the scalar
 * reference (the contract's tolerances). Skipped, test by test, where no CUDA device is present.
 */
@Tag("gpu")
class CudaBackendOperationsTest extends BackendOperationsContract {
  private static CudaBackend cuda;

  @BeforeEach
  void needsCuda() {
    CudaAvailability probe = CudaAvailability.probe();
    assumeTrue(probe.available(), () -> "no CUDA device: " + probe.problem());
    if (cuda == null) {
      cuda = CudaBackend.open(0, 2);
    }
  }

  @Override
  protected KernelBackend backend() {
    return cuda;
  }

  @AfterAll
  static void close() {
    if (cuda != null) {
      cuda.close();
    }
  }
}
