package io.moeflink.connectors;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.codec.CompletionJson;
import io.moeflink.connectors.codec.DeadLetterJson;
import io.moeflink.connectors.codec.OpenAiBatchOutput;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import java.io.Serializable;
import org.apache.avro.specific.SpecificRecord;

/** Writes one record as the bytes of a Kafka value or a file line (without its line break). */
@FunctionalInterface
public interface ValueEncoder<T> extends Serializable {

  byte[] encode(T value);

  static ValueEncoder<Completion> completions(RecordFormat format) {
    return format == RecordFormat.AVRO ? avro() : CompletionJson::write;
  }

  static ValueEncoder<Completion> openAiBatchOutput() {
    return OpenAiBatchOutput::write;
  }

  static ValueEncoder<DeadLetter> deadLetters(RecordFormat format) {
    return format == RecordFormat.AVRO ? avro() : DeadLetterJson::write;
  }

  /**
   * One method reference for every record type. Two serializable references to the same method
   * with different type arguments deserialize to the same lambda (a javac limitation), whose
   * bridge then casts to the wrong record class.
   */
  private static <T extends SpecificRecord> ValueEncoder<T> avro() {
    return AvroMessages::encode;
  }
}
