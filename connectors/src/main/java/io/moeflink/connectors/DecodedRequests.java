package io.moeflink.connectors;

import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The two streams one input becomes: requests for admission and dead letters for their sink.
 *
 * <pre>{@code
 * DecodedRequests decoded = DecodedRequests.decode(env.fromSource(source, noWatermarks(), "requests"), decoder);
 * decoded.deadLetters().sinkTo(deadLetterSink);
 * }</pre>
 */
public record DecodedRequests(
    DataStream<InferenceRequest> requests, DataStream<DeadLetter> deadLetters) {

  /** Adds a decoding step (uid {@code decode-requests}) after {@code raw}. */
  public static DecodedRequests decode(DataStream<RawRecord> raw, RequestDecoder decoder) {
    SingleOutputStreamOperator<InferenceRequest> requests =
        raw.process(new DecodeRequests(decoder), Contracts.requests())
            .name("decode requests")
            .uid("decode-requests");
    return new DecodedRequests(requests, requests.getSideOutput(DecodeRequests.DEAD_LETTERS));
  }
}
