package io.moeflink.connectors.kafka;

import io.moeflink.connectors.Contracts;
import io.moeflink.connectors.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Wraps each Kafka record's value with its position; decodes nothing, so it cannot fail. */
final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {

  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
    out.collect(
        RawRecord.fromKafka(record.topic(), record.partition(), record.offset(), record.value()));
  }

  @Override
  public TypeInformation<RawRecord> getProducedType() {
    return Contracts.rawRecords();
  }
}
