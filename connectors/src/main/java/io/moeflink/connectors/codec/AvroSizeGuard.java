package io.moeflink.connectors.codec;

import java.io.IOException;
import org.apache.avro.Schema;

/**
 * Walks a binary Avro datum along its writer schema before Avro decodes it, and refuses any
 * string, bytes, array or map whose declared size is larger than the bytes left in the record.
 * Avro allocates what a length claims before it reads: a 17-byte record claiming a 1 GB string or
 * a 300-million-entry array ends in {@code OutOfMemoryError} (found by fuzzing), which would fail
 * the task on that record after every restart. Nothing is allocated here, and a record that passes
 * decodes as before.
 */
final class AvroSizeGuard {

  /** Avro's varints are at most 10 bytes long. */
  private static final int MAX_VARINT_BYTES = 10;

  private final byte[] bytes;
  private int pos;

  private AvroSizeGuard(byte[] bytes, int offset) {
    this.bytes = bytes;
    this.pos = offset;
  }

  /**
   * @throws IOException naming the size that does not fit, or a varint or union branch that is
   *     not valid
   */
  static void check(Schema writer, byte[] bytes, int offset) throws IOException {
    new AvroSizeGuard(bytes, offset).walk(writer);
  }

  private void walk(Schema schema) throws IOException {
    switch (schema.getType()) {
      case RECORD -> {
        for (Schema.Field field : schema.getFields()) {
          walk(field.schema());
        }
      }
      case UNION -> {
        long branch = readLong();
        if (branch < 0 || branch >= schema.getTypes().size()) {
          throw new IOException("union branch " + branch + " of " + schema.getTypes().size() + " at byte " + pos);
        }
        walk(schema.getTypes().get((int) branch));
      }
      case ARRAY -> blocks(schema.getElementType(), false);
      case MAP -> blocks(schema.getValueType(), true);
      case STRING, BYTES -> skip(readSize("a " + schema.getType().getName() + " of"));
      case INT, LONG, ENUM -> readLong();
      case FLOAT -> skip(4);
      case DOUBLE -> skip(8);
      case BOOLEAN -> skip(1);
      case FIXED -> skip(schema.getFixedSize());
      case NULL -> {
        // no bytes
      }
    }
  }

  /** Array and map blocks: a count (negative: followed by the block's size in bytes), then items. */
  private void blocks(Schema item, boolean map) throws IOException {
    while (true) {
      long count = readLong();
      if (count == 0) {
        return;
      }
      if (count < 0) {
        count = -count;
        readSize("a block of");
      }
      if (count > remaining()) {
        throw new IOException("an array or map of " + count + " items at byte " + pos + ", but only "
            + remaining() + " bytes remain");
      }
      for (long i = 0; i < count; i++) {
        if (map) {
          skip(readSize("a map key of"));
        }
        walk(item);
      }
    }
  }

  private long readSize(String what) throws IOException {
    long size = readLong();
    if (size < 0 || size > remaining()) {
      throw new IOException(what + " " + size + " bytes at byte " + pos + ", but only " + remaining() + " bytes remain");
    }
    return size;
  }

  private void skip(long n) throws IOException {
    if (n > remaining()) {
      throw new IOException("the record ends at byte " + bytes.length + ", " + (n - remaining()) + " bytes early");
    }
    pos += (int) n;
  }

  private int remaining() {
    return bytes.length - pos;
  }

  /** A zig-zag varint. */
  private long readLong() throws IOException {
    long raw = 0;
    for (int shift = 0, i = 0; i < MAX_VARINT_BYTES; i++, shift += 7) {
      if (pos >= bytes.length) {
        throw new IOException("the record ends inside a number at byte " + pos);
      }
      int b = bytes[pos++] & 0xFF;
      raw |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new IOException("a number longer than " + MAX_VARINT_BYTES + " bytes at byte " + pos);
  }
}
