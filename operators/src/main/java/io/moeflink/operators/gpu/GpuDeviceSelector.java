package io.moeflink.operators.gpu;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * Which CUDA device a subtask uses. In order of precedence:
 *
 * <ol>
 *   <li>the GPU indexes Flink's external resource framework assigned to the TaskManager
 *       ({@code RuntimeContext#getExternalResourceInfos("gpu")}, property {@code index}): the
 *       subtask takes index {@code subtask mod count}, translated to CUDA's numbering when {@code
 *       CUDA_VISIBLE_DEVICES} renumbers the devices;
 *   <li>a configured device ordinal (a MiniCluster always reports no external resources);
 *   <li>{@code CUDA_VISIBLE_DEVICES}: the devices it lists are the ones this process may use,
 *       numbered 0.. by CUDA; the subtask takes {@code subtask mod listed};
 *   <li>{@code subtask mod deviceCount}.
 * </ol>
 *
 * This is Flink's resource policy, so it lives with the operators: the engine only takes a device ordinal.
 */
public final class GpuDeviceSelector {
  private GpuDeviceSelector() {}

  /**
   * The chosen device and why, for the log line at start.
   *
   * @param ordinal CUDA device ordinal for {@code cuDeviceGet}
   * @param reason which rule chose it, e.g. {@code "external resource gpu index 3"}
   */
  public record Choice(int ordinal, String reason) {}

  /**
   * @param externalResourceIndexes the {@code index} properties of the TaskManager's {@code gpu}
   *     resources, empty where there are none
   * @param configured a device ordinal from the job's configuration, if any
   * @param cudaVisibleDevices the value of {@code CUDA_VISIBLE_DEVICES}, null if unset
   * @param subtaskIndex this subtask's index, from 0
   * @param deviceCount devices the driver reports ({@link CudaAvailability#deviceCount()})
   * @throws IllegalArgumentException when the inputs name no usable device; the message says which
   */
  public static Choice select(
      Collection<String> externalResourceIndexes, OptionalInt configured, String cudaVisibleDevices,
      int subtaskIndex, int deviceCount) {
    if (subtaskIndex < 0) {
      throw new IllegalArgumentException("subtaskIndex is " + subtaskIndex + ", expected at least 0");
    }
    if (deviceCount < 1) {
      throw new IllegalArgumentException("No CUDA device to choose from: the driver reports " + deviceCount);
    }
    List<String> visible = cudaVisibleDevices == null ? null : parseList(cudaVisibleDevices);
    if (visible != null && visible.isEmpty()) {
      throw new IllegalArgumentException(
          "CUDA_VISIBLE_DEVICES='" + cudaVisibleDevices + "' hides every device; unset it or list a GPU index");
    }
    if (!externalResourceIndexes.isEmpty()) {
      List<Integer> indexes = new ArrayList<>();
      for (String s : externalResourceIndexes) {
        indexes.add(parseIndex(s, "external resource gpu index"));
      }
      indexes.sort(null);
      int physical = indexes.get(subtaskIndex % indexes.size());
      int ordinal = physical;
      if (visible != null) {
        ordinal = visible.indexOf(Integer.toString(physical));
        if (ordinal < 0) {
          throw new IllegalArgumentException(
              "Flink assigned GPU " + physical + " but CUDA_VISIBLE_DEVICES='" + cudaVisibleDevices
                  + "' hides it; list it there or unset CUDA_VISIBLE_DEVICES on the TaskManager");
        }
      }
      return checked(ordinal, deviceCount, "external resource gpu index " + physical);
    }
    if (configured.isPresent()) {
      return checked(configured.getAsInt(), deviceCount, "configured device " + configured.getAsInt());
    }
    if (visible != null) {
      int ordinal = subtaskIndex % Math.min(visible.size(), deviceCount);
      return checked(ordinal, deviceCount,
          "subtask " + subtaskIndex + " mod the " + visible.size() + " device(s) of CUDA_VISIBLE_DEVICES="
              + cudaVisibleDevices);
    }
    return checked(subtaskIndex % deviceCount, deviceCount,
        "subtask " + subtaskIndex + " mod " + deviceCount + " device(s)");
  }

  private static Choice checked(int ordinal, int deviceCount, String reason) {
    if (ordinal < 0 || ordinal >= deviceCount) {
      throw new IllegalArgumentException(
          "CUDA device " + ordinal + " (" + reason + ") does not exist: the driver reports " + deviceCount
              + " device(s), numbered 0.." + (deviceCount - 1));
    }
    return new Choice(ordinal, reason);
  }

  /** Entries of a comma-separated list; CUDA stops at the first invalid entry such as -1. */
  private static List<String> parseList(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String entry = part.trim().toLowerCase(Locale.ROOT);
      if (entry.isEmpty() || entry.startsWith("-")) {
        break;
      }
      out.add(entry);
    }
    return out;
  }

  private static int parseIndex(String value, String what) {
    try {
      int i = Integer.parseInt(value.trim());
      if (i >= 0) {
        return i;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(what + " is '" + value + "', expected a non-negative integer");
  }
}
