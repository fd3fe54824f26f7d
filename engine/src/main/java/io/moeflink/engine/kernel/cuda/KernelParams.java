package io.moeflink.engine.kernel.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A kernel's parameters in declaration order, as {@code cuLaunchKernel} reads them: an array of
 * pointers, each to one parameter's value.
 */
final class KernelParams {
  private final List<Pointer> values = new ArrayList<>();

  /** A device address (a {@code const float*} or similar). */
  KernelParams address(CUdeviceptr p) {
    values.add(Pointer.to(p));
    return this;
  }

  /** A null device address. */
  KernelParams none() {
    values.add(Pointer.to(new CUdeviceptr()));
    return this;
  }

  KernelParams ints(int... ints) {
    for (int v : ints) {
      values.add(Pointer.to(new int[] {v}));
    }
    return this;
  }

  KernelParams floats(float v) {
    values.add(Pointer.to(new float[] {v}));
    return this;
  }

  KernelParams doubles(double v) {
    values.add(Pointer.to(new double[] {v}));
    return this;
  }

  Pointer build() {
    return Pointer.to(values.toArray(new Pointer[0]));
  }
}
