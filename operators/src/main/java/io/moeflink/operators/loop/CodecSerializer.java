package io.moeflink.operators.loop;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A serializer for an immutable message type written field by field: no Kryo, no reflection on
 * the hot path. Subclasses implement {@link #write} and {@link #read} and a snapshot class.
 */
public abstract class CodecSerializer<T> extends TypeSerializer<T> {
  private static final long serialVersionUID = 1L;
  /** Floats converted per chunk on the wire (16 KiB of bytes). */
  private static final int FLOAT_CHUNK = 4096;
  /** Reads and writes an int as four big-endian bytes in one access (the JIT emits a byte swap). */
  private static final VarHandle BIG_ENDIAN_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  /** Writes one value. */
  protected abstract void write(T value, DataOutputView out) throws IOException;

  /** Reads one value written by {@link #write}. */
  protected abstract T read(DataInputView in) throws IOException;

  @Override
  public final boolean isImmutableType() {
    return true;
  }

  @Override
  public final TypeSerializer<T> duplicate() {
    return this; // stateless
  }

  @Override
  public final T copy(T from) {
    return from;
  }

  @Override
  public final T copy(T from, T reuse) {
    return from;
  }

  @Override
  public final int getLength() {
    return -1;
  }

  @Override
  public final void serialize(T record, DataOutputView target) throws IOException {
    write(record, target);
  }

  @Override
  public final T deserialize(DataInputView source) throws IOException {
    return read(source);
  }

  @Override
  public final T deserialize(T reuse, DataInputView source) throws IOException {
    return read(source);
  }

  @Override
  public final void copy(DataInputView source, DataOutputView target) throws IOException {
    write(read(source), target);
  }

  @Override
  public final boolean equals(Object obj) {
    return obj != null && obj.getClass() == getClass();
  }

  @Override
  public final int hashCode() {
    return getClass().hashCode();
  }

  // --- helpers for arrays and strings ---

  protected static void writeInts(int[] values, DataOutputView out) throws IOException {
    out.writeInt(values.length);
    for (int v : values) {
      out.writeInt(v);
    }
  }

  protected static int[] readInts(DataInputView in) throws IOException {
    int[] values = new int[in.readInt()];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.readInt();
    }
    return values;
  }

  /**
   * F32 activations travel bit-exact (raw IEEE bits, big-endian), so the dataflow computes what the
   * engine computes. They are converted through a small chunk, not a copy of the whole array: a
   * prefill reply is megabytes, which a single byte[] would allocate outside the TLAB (and, from
   * 1 MiB, as a G1 humongous object) on every hop.
   */
  protected static void writeFloats(float[] values, DataOutputView out) throws IOException {
    out.writeInt(values.length);
    byte[] chunk = new byte[Math.min(values.length, FLOAT_CHUNK) * Float.BYTES];
    for (int start = 0; start < values.length; start += FLOAT_CHUNK) {
      int n = Math.min(FLOAT_CHUNK, values.length - start);
      for (int i = 0; i < n; i++) {
        BIG_ENDIAN_INT.set(chunk, i * Float.BYTES, Float.floatToRawIntBits(values[start + i]));
      }
      out.write(chunk, 0, n * Float.BYTES);
    }
  }

  protected static float[] readFloats(DataInputView in) throws IOException {
    float[] values = new float[in.readInt()];
    byte[] chunk = new byte[Math.min(values.length, FLOAT_CHUNK) * Float.BYTES];
    for (int start = 0; start < values.length; start += FLOAT_CHUNK) {
      int n = Math.min(FLOAT_CHUNK, values.length - start);
      in.readFully(chunk, 0, n * Float.BYTES);
      for (int i = 0; i < n; i++) {
        values[start + i] = Float.intBitsToFloat((int) BIG_ENDIAN_INT.get(chunk, i * Float.BYTES));
      }
    }
    return values;
  }

  protected static void writeNullableString(String s, DataOutputView out) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  protected static String readNullableString(DataInputView in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
