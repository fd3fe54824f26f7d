package io.moeflink.connectors.files;

import io.moeflink.connectors.RawRecord;
import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.schemas.InferenceRequest;
import java.io.IOException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * Avro container files of {@link InferenceRequest}s, written with this or an older schema (the
 * file header holds the writer schema). Each record goes on re-encoded in single-object encoding,
 * so it is decoded and validated like a Kafka record. A corrupt block ends the file with one
 * UNDECODABLE dead letter naming the last good record, instead of failing the job.
 */
final class AvroFileFormat extends SequentialFileFormat {

  private static final long serialVersionUID = 1L;

  @Override
  RecordCursor open(String file, FSDataInputStream in) {
    return new AvroCursor(file, in);
  }

  private static final class AvroCursor implements RecordCursor {
    private final String file;
    private final FSDataInputStream in;
    private DataFileStream<InferenceRequest> records;
    private long record;
    private boolean ended;

    AvroCursor(String file, FSDataInputStream in) {
      this.file = file;
      this.in = in;
    }

    @Override
    public RawRecord next() throws IOException {
      if (ended) {
        return null;
      }
      try {
        if (records == null) {
          records = new DataFileStream<>(in, new SpecificDatumReader<>(InferenceRequest.class));
        }
        if (!records.hasNext()) {
          ended = true;
          return null;
        }
        byte[] bytes = AvroMessages.encode(records.next());
        record++;
        return RawRecord.fromFile(file, record, bytes, bytes.length);
      } catch (IOException | AvroRuntimeException e) {
        ended = true;
        record++;
        return RawRecord.unreadable(
            file, record, new byte[0],
            "Cannot read Avro record " + record + " of " + file + " (the rest of the file is"
                + " skipped): " + e);
      }
    }

    @Override
    public void close() throws IOException {
      if (records != null) {
        records.close();
      } else {
        in.close();
      }
    }
  }
}
