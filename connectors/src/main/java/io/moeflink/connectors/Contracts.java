package io.moeflink.connectors;

import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Flink type information for the contracts. Given explicitly so that our records travel with
 * Flink's Avro serializer (schema-resolving, checkpoint-compatible) and never fall back to Kryo.
 */
public final class Contracts {

  private Contracts() {}

  public static TypeInformation<InferenceRequest> requests() {
    return new AvroTypeInfo<>(InferenceRequest.class);
  }

  public static TypeInformation<Completion> completions() {
    return new AvroTypeInfo<>(Completion.class);
  }

  public static TypeInformation<DeadLetter> deadLetters() {
    return new AvroTypeInfo<>(DeadLetter.class);
  }

  /** Fails at job construction, not at run time, if the record stopped being a Flink POJO. */
  public static TypeInformation<RawRecord> rawRecords() {
    return Types.POJO(RawRecord.class);
  }
}
