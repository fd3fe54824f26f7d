package io.moeflink.operators.loop;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A serializer for an immutable message type written field by field: no Kryo, no reflection on
 * the hot path. Subclasses implement {@link #write} and {@link #read} and a snapshot class.
 */
public abstract class CodecSerializer<T> extends TypeSerializer<T> {
  private static final long serialVersionUID = 1L;

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

  /** F32 activations travel bit-exact, so the dataflow computes what the engine computes. */
  protected static void writeFloats(float[] values, DataOutputView out) throws IOException {
    out.writeInt(values.length);
    byte[] bytes = new byte[values.length * 4];
    for (int i = 0; i < values.length; i++) {
      int bits = Float.floatToRawIntBits(values[i]);
      bytes[4 * i] = (byte) (bits >>> 24);
      bytes[4 * i + 1] = (byte) (bits >>> 16);
      bytes[4 * i + 2] = (byte) (bits >>> 8);
      bytes[4 * i + 3] = (byte) bits;
    }
    out.write(bytes);
  }

  protected static float[] readFloats(DataInputView in) throws IOException {
    float[] values = new float[in.readInt()];
    byte[] bytes = new byte[values.length * 4];
    in.readFully(bytes);
    for (int i = 0; i < values.length; i++) {
      int bits = (bytes[4 * i] & 0xFF) << 24 | (bytes[4 * i + 1] & 0xFF) << 16 | (bytes[4 * i + 2] & 0xFF) << 8
          | (bytes[4 * i + 3] & 0xFF);
      values[i] = Float.intBitsToFloat(bits);
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
