package io.moeflink.connectors.files;

import io.moeflink.connectors.ValueEncoder;
import java.io.IOException;
import java.io.OutputStream;
import org.apache.flink.api.common.serialization.Encoder;

/** Writes each record as one line of a row-format part file. */
final class LineEncoder<T> implements Encoder<T> {

  private static final long serialVersionUID = 1L;

  private final ValueEncoder<T> encoder;

  LineEncoder(ValueEncoder<T> encoder) {
    this.encoder = encoder;
  }

  @Override
  public void encode(T element, OutputStream stream) throws IOException {
    stream.write(encoder.encode(element));
    stream.write('\n');
  }
}
