package io.moeflink.operators.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class GpuDeviceSelectorTest {
  private static final List<String> NONE = List.of();

  @Test
  void externalResourceIndexComesFirst() {
    GpuDeviceSelector.Choice c = GpuDeviceSelector.select(List.of("3", "1"), OptionalInt.of(0), null, 1, 4);
    assertThat(c.ordinal()).isEqualTo(3); // sorted [1, 3], subtask 1 takes the second
    assertThat(c.reason()).contains("external resource gpu index 3");
  }

  @Test
  void externalResourceIndexIsTranslatedThroughCudaVisibleDevices() {
    GpuDeviceSelector.Choice c = GpuDeviceSelector.select(List.of("6"), OptionalInt.empty(), "4,6", 0, 2);
    assertThat(c.ordinal()).isEqualTo(1);
  }

  @Test
  void failsWhenCudaVisibleDevicesHidesTheAssignedGpu() {
    assertThatThrownBy(() -> GpuDeviceSelector.select(List.of("5"), OptionalInt.empty(), "4,6", 0, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Flink assigned GPU 5")
        .hasMessageContaining("CUDA_VISIBLE_DEVICES='4,6'");
  }

  @Test
  void configuredIndexWhenFlinkAssignsNone() {
    assertThat(GpuDeviceSelector.select(NONE, OptionalInt.of(2), "0,1,2,3", 5, 4).ordinal()).isEqualTo(2);
  }

  @Test
  void cudaVisibleDevicesThenSpreadsSubtasksOverTheListedDevices() {
    assertThat(GpuDeviceSelector.select(NONE, OptionalInt.empty(), "2,3", 3, 2).ordinal()).isEqualTo(1);
    assertThat(GpuDeviceSelector.select(NONE, OptionalInt.empty(), "7", 3, 1).ordinal()).isZero();
  }

  @Test
  void otherwiseSubtaskModuloDeviceCount() {
    GpuDeviceSelector.Choice c = GpuDeviceSelector.select(NONE, OptionalInt.empty(), null, 5, 4);
    assertThat(c.ordinal()).isEqualTo(1);
    assertThat(c.reason()).isEqualTo("subtask 5 mod 4 device(s)");
  }

  @Test
  void rejectsAConfiguredIndexBeyondTheDevices() {
    assertThatThrownBy(() -> GpuDeviceSelector.select(NONE, OptionalInt.of(4), null, 0, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CUDA device 4 (configured device 4) does not exist")
        .hasMessageContaining("0..3");
  }

  @Test
  void rejectsCudaVisibleDevicesThatHidesEverything() {
    assertThatThrownBy(() -> GpuDeviceSelector.select(NONE, OptionalInt.empty(), "-1", 0, 1))
        .hasMessageContaining("hides every device");
  }

  @Test
  void rejectsAnUnparsableExternalResourceIndex() {
    assertThatThrownBy(() -> GpuDeviceSelector.select(List.of("gpu0"), OptionalInt.empty(), null, 0, 1))
        .hasMessageContaining("external resource gpu index is 'gpu0'");
  }
}
