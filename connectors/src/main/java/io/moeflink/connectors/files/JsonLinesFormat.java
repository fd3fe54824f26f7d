package io.moeflink.connectors.files;

import io.moeflink.connectors.RawRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * JSON lines: one record per line, {@code \n} or {@code \r\n}; blank lines are skipped but
 * counted. A line longer than {@code maxRecordBytes} is not held in memory whole: its first bytes
 * and its true size go on, to become an OVERSIZED dead letter.
 */
final class JsonLinesFormat extends SequentialFileFormat {

  private static final long serialVersionUID = 1L;

  private final int maxRecordBytes;

  JsonLinesFormat(int maxRecordBytes) {
    this.maxRecordBytes = maxRecordBytes;
  }

  @Override
  RecordCursor open(String file, FSDataInputStream in) {
    return new LineCursor(file, in, maxRecordBytes);
  }

  /** Splits a stream into lines without decoding them. */
  private static final class LineCursor implements RecordCursor {
    private final String file;
    private final InputStream in;
    private final int maxRecordBytes;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private long line;
    private boolean ended;

    LineCursor(String file, InputStream in, int maxRecordBytes) {
      this.file = file;
      this.in = in;
      this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public RawRecord next() throws IOException {
      while (!ended) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        long size = readLine(kept);
        if (size < 0) {
          ended = true;
          return null;
        }
        line++;
        byte[] bytes = kept.toByteArray();
        if (size <= maxRecordBytes && isBlank(bytes)) {
          continue;
        }
        return RawRecord.fromFile(file, line, bytes, size);
      }
      return null;
    }

    /**
     * Reads up to the next line break, keeping at most {@code maxRecordBytes + 1} bytes. Returns
     * the line's size without its break, or -1 at the end of the stream.
     */
    private long readLine(ByteArrayOutputStream kept) throws IOException {
      long size = 0;
      boolean any = false;
      while (true) {
        if (position == limit) {
          limit = in.read(buffer);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return any ? stripCarriageReturn(kept, size) : -1;
          }
        }
        any = true;
        int start = position;
        while (position < limit && buffer[position] != '\n') {
          position++;
        }
        int length = position - start;
        int room = (int) Math.max(0, Math.min(length, maxRecordBytes + 1L - kept.size()));
        kept.write(buffer, start, room);
        size += length;
        if (position < limit) {
          position++; // the line break
          return stripCarriageReturn(kept, size);
        }
      }
    }

    private static long stripCarriageReturn(ByteArrayOutputStream kept, long size) {
      byte[] bytes = kept.toByteArray();
      if (size > 0 && bytes.length == size && bytes[bytes.length - 1] == '\r') {
        kept.reset();
        kept.write(bytes, 0, bytes.length - 1);
        return size - 1;
      }
      return size;
    }

    private static boolean isBlank(byte[] bytes) {
      for (byte b : bytes) {
        if (b != ' ' && b != '\t' && b != '\r') {
          return false;
        }
      }
      return true;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
