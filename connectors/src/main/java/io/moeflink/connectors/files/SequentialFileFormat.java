package io.moeflink.connectors.files;

import io.moeflink.connectors.Contracts;
import io.moeflink.connectors.RawRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;

/**
 * A file format read front to back, one split per file. Each record's position is its line (or
 * record) number, so dead letters name the exact line and a restored reader skips what an earlier
 * attempt emitted. A corpus spread over many files is read in parallel, one file per reader.
 */
abstract class SequentialFileFormat implements BulkFormat<RawRecord, FileSourceSplit> {

  private static final long serialVersionUID = 1L;

  /** Records handed over per batch. */
  private static final int BATCH_SIZE = 256;

  /** Opens a cursor over one whole file. */
  abstract RecordCursor open(String file, FSDataInputStream in) throws IOException;

  @Override
  public Reader<RawRecord> createReader(Configuration config, FileSourceSplit split)
      throws IOException {
    return restoreReader(config, split);
  }

  @Override
  public Reader<RawRecord> restoreReader(Configuration config, FileSourceSplit split)
      throws IOException {
    long emitted =
        split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
    Path path = split.path();
    RecordCursor cursor = open(path.toString(), path.getFileSystem().open(path));
    return new CursorReader(cursor, emitted);
  }

  @Override
  public boolean isSplittable() {
    return false;
  }

  @Override
  public TypeInformation<RawRecord> getProducedType() {
    return Contracts.rawRecords();
  }

  /** Hands a cursor's records to Flink in batches, skipping those emitted before a restore. */
  private static final class CursorReader implements Reader<RawRecord> {
    private final RecordCursor cursor;
    private final long skipThrough;

    CursorReader(RecordCursor cursor, long skipThrough) {
      this.cursor = cursor;
      this.skipThrough = skipThrough;
    }

    @Override
    public RecordIterator<RawRecord> readBatch() throws IOException {
      List<RawRecord> batch = new ArrayList<>(BATCH_SIZE);
      for (RawRecord record = cursor.next(); record != null; record = cursor.next()) {
        if (record.line() > skipThrough) {
          batch.add(record);
          if (batch.size() == BATCH_SIZE) {
            break;
          }
        }
      }
      return batch.isEmpty() ? null : new BatchIterator(batch);
    }

    @Override
    public void close() throws IOException {
      cursor.close();
    }
  }

  /** Positions each record at its own line number: resuming after it skips that many lines. */
  private static final class BatchIterator implements RecordIterator<RawRecord> {
    private final List<RawRecord> records;
    private int next;

    BatchIterator(List<RawRecord> records) {
      this.records = records;
    }

    @Override
    public RecordAndPosition<RawRecord> next() {
      if (next == records.size()) {
        return null;
      }
      RawRecord record = records.get(next++);
      return new RecordAndPosition<>(record, CheckpointedPosition.NO_OFFSET, record.line());
    }

    @Override
    public void releaseBatch() {}
  }
}
