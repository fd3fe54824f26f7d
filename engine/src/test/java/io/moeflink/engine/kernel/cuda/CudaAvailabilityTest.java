package io.moeflink.engine.kernel.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import jcuda.CudaException;
import org.junit.jupiter.api.Test;

/** Runs everywhere: what a job configured for CUDA is told on a machine without it. */
class CudaAvailabilityTest {

  @Test
  void askingForCudaWithoutADeviceFailsAtStartNamingWhatIsMissing() {
    CudaAvailability cuda = CudaAvailability.probe();
    assumeFalse(cuda.available(), "this machine has a CUDA device");
    assertThatThrownBy(() -> Backends.create(BackendKind.CUDA, 1, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("Backend 'cuda' is configured but CUDA is unusable here: ")
        .hasMessageContaining(cuda.problem())
        .hasMessageContaining("configure backend 'auto'");
    assertThat(cuda.problem()).containsAnyOf("libcuda.so.1", "jcuda-natives", "no CUDA device", "failed to initialise");
  }

  @Test
  void theProbeRunsOnceSoLaterCallersSeeTheFirstCause() {
    // A second JCuda call would throw NoClassDefFoundError and hide the missing driver.
    assertThat(CudaAvailability.probe()).isSameAs(CudaAvailability.probe());
    assertThat(String.valueOf(CudaAvailability.probe().problem())).doesNotContain("classes are missing");
  }

  @Test
  void explainsAMissingDriverLibrary() {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(
        "Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"\nOperating system name: Linux\n"
            + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.0.0-linux-x86_64.so: libcuda.so.1: cannot open"
            + " shared object file: No such file or directory\n\tat jcuda.LibUtils.loadLibraryResource");
    assertThat(CudaAvailability.explain(e))
        .startsWith("the NVIDIA driver library libcuda.so.1 is not installed")
        .contains("cannot open shared object file")
        .doesNotContain("\n");
  }

  @Test
  void explainsMissingNatives() {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(
        "Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"\nNo resource found with name"
            + " '/lib/libJCudaDriver-12.0.0-linux-x86_64.so'");
    assertThat(CudaAvailability.explain(e))
        .contains("JCuda's native library could not be loaded")
        .contains("org.jcuda:jcuda-natives")
        .doesNotContain("\n");
  }

  @Test
  void explainsAMachineWithoutDevices() {
    assertThat(CudaAvailability.explain(new CudaException("CUDA_ERROR_NO_DEVICE")))
        .contains("no CUDA device")
        .contains("CUDA_VISIBLE_DEVICES");
  }

  @Test
  void rejectsADeviceIndexBeyondTheDevicesPresent() {
    CudaAvailability twoDevices = new CudaAvailability(2, 12000, null);
    assertThatThrownBy(() -> twoDevices.requireDevice(2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CUDA device 2 does not exist")
        .hasMessageContaining("0..1");
  }
}
