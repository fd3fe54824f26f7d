package io.moeflink.connectors.files;

import io.moeflink.connectors.RawRecord;
import java.io.Closeable;
import java.io.IOException;

/**
 * Reads one file's records in order. A record's {@link RawRecord#line()} is its position: the
 * number of positions (lines, Avro records) consumed up to and including it.
 */
interface RecordCursor extends Closeable {

  /** The next record, or null at the end of the file. */
  RawRecord next() throws IOException;
}
