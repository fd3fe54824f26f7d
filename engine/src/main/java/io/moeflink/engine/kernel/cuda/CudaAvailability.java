package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.CudaException;
import jcuda.driver.JCudaDriver;

/**
 * Whether this JVM can run CUDA kernels, and if not, what is missing: JCuda's native library, the
 * NVIDIA driver ({@code libcuda.so.1}) or a device.
 *
 * <p>The probe runs once per JVM and its answer is cached: the only static state of the CUDA
 * backend. It has to be: without a driver, JCuda's first call throws {@link
 * UnsatisfiedLinkError} while loading its native library, and every later call throws {@link
 * NoClassDefFoundError} because {@code JCudaDriver}'s class initialisation failed, which would
 * hide the real cause from the second caller on.
 *
 * @param deviceCount devices the driver reports (after {@code CUDA_VISIBLE_DEVICES}), 0 if none
 * @param driverVersion the driver's CUDA version as {@code 1000 * major + 10 * minor}, 0 if unknown
 * @param problem why CUDA cannot be used, or null when at least one device is usable
 */
public record CudaAvailability(int deviceCount, int driverVersion, String problem) {
  /** The driver API library JCuda's native library links against. */
  private static final String DRIVER_LIBRARY = "libcuda.so.1";

  /** The cached answer for this JVM; probes on the first call. */
  public static CudaAvailability probe() {
    return Cached.ANSWER;
  }

  /** Whether at least one CUDA device can be used. */
  public boolean available() {
    return problem == null;
  }

  /**
   * Fails unless device {@code ordinal} exists, with a message naming what is missing and what to
   * do; a job configured for CUDA never falls back to the CPU.
   *
   * @throws IllegalStateException without JCuda natives, driver or such a device
   */
  public void requireDevice(int ordinal) {
    if (problem != null) {
      throw new IllegalStateException(
          "Backend 'cuda' is configured but CUDA is unusable here: " + problem
              + ". Run on a machine with an NVIDIA GPU and driver, or configure backend 'auto'");
    }
    if (ordinal < 0 || ordinal >= deviceCount) {
      throw new IllegalStateException(
          "CUDA device " + ordinal + " does not exist: the driver reports " + deviceCount
              + " device(s), so the index must be 0.." + (deviceCount - 1)
              + " (CUDA_VISIBLE_DEVICES renumbers the visible devices from 0)");
    }
  }

  /** Holder idiom: the probe runs on first use, exactly once, thread-safely. */
  private static final class Cached {
    static final CudaAvailability ANSWER = run();
  }

  private static CudaAvailability run() {
    try {
      JCudaDriver.setExceptionsEnabled(true);
      cuInit(0);
      int[] version = new int[1];
      cuDriverGetVersion(version);
      int[] count = new int[1];
      cuDeviceGetCount(count);
      if (count[0] == 0) {
        return new CudaAvailability(0, version[0], "the NVIDIA driver reports no CUDA device");
      }
      return new CudaAvailability(count[0], version[0], null);
    } catch (LinkageError | CudaException e) {
      return new CudaAvailability(0, 0, explain(e));
    }
  }

  /**
   * What a failed probe means, in words a user can act on. JCuda's {@link UnsatisfiedLinkError}
   * message holds the stack traces of both ways it tried to load its library, one of which names
   * the missing driver library when the natives themselves were found.
   */
  static String explain(Throwable failure) {
    String message = String.valueOf(failure.getMessage());
    if (failure instanceof CudaException) {
      if (message.contains("CUDA_ERROR_NO_DEVICE")) {
        return "the NVIDIA driver finds no CUDA device (" + message + "; check CUDA_VISIBLE_DEVICES)";
      }
      return "the NVIDIA driver failed to initialise (" + message + ")";
    }
    if (failure instanceof NoClassDefFoundError) {
      return "JCuda's classes are missing or failed to initialise (" + firstLine(message)
          + "); add org.jcuda:jcuda and the jcuda-natives jar for this platform to the classpath";
    }
    for (String line : message.split("\\R")) {
      if (line.contains(DRIVER_LIBRARY)) {
        return "the NVIDIA driver library " + DRIVER_LIBRARY
            + " is not installed or not on the library path (" + line.trim() + ")";
      }
    }
    return "JCuda's native library could not be loaded (" + firstLine(message)
        + "); add the org.jcuda:jcuda-natives jar for this platform (classifier linux-x86_64) to"
        + " the classpath";
  }

  private static String firstLine(String message) {
    String[] lines = message.split("\\R", 2);
    return lines[0].trim();
  }
}
