package io.moeflink.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.codec.InvalidRecordException;
import io.moeflink.connectors.codec.RequestJson;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property-based fuzzing of the request decoders with QuickTheories (a fixed seed, so a failure
 * reproduces): arbitrary bytes, and valid requests
 * (our JSON, OpenAI batch lines, Avro single-object encoding) mutated field by field and byte by
 * byte. The documented rejection is {@link InvalidRecordException} from the parsers, and a dead
 * letter with a specific reason from {@link RequestDecoder#decode}; any other exception, or the
 * catch-all reason {@code OTHER} (an exception nobody expected), fails the property. Each property
 * runs a bounded number of tries (a few seconds).
 */
class RequestDecodersFuzzTest {

  private static final RequestDecoder JSON_DECODER = RequestDecoder.builder().format(RecordFormat.JSON).build();
  private static final RequestDecoder AVRO_DECODER = RequestDecoder.builder().format(RecordFormat.AVRO).build();

  private static final long SEED = 20261201L;

  @Test
  void ourJsonAndOpenAiBatchLinesAreParsedOrRejectedAsInvalidRecords() {
    qt().withFixedSeed(SEED).withExamples(3000).forAll(longs().all()).checkAssert(seed -> {
      byte[] line = JsonMutations.line(new Random(seed));
      try {
        RequestJson.parse(line);
      } catch (InvalidRecordException expected) {
        assertThat(expected.reason()).isNotNull();
      }
    });
  }

  @Test
  void theJsonDecoderAnswersEveryLineWithARequestOrASpecificDeadLetter() {
    qt().withFixedSeed(SEED).withExamples(3000).forAll(longs().all())
        .checkAssert(seed -> assertDecodedWithoutSurprise(JSON_DECODER, JsonMutations.line(new Random(seed))));
  }

  @Test
  void theAvroDecoderAnswersEveryRecordWithARequestOrASpecificDeadLetter() {
    qt().withFixedSeed(SEED).withExamples(3000).forAll(longs().all())
        .checkAssert(seed -> assertDecodedWithoutSurprise(AVRO_DECODER, avroRecord(new Random(seed))));
  }

  /**
   * A record that declares a string or array larger than itself: before the size guard, Avro
   * allocated the declared size first (OutOfMemoryError for 1 GB from a 17-byte record).
   */
  @Test
  void sizesLargerThanTheRecordAreDeadLettersWithoutAllocating() {
    qt().withFixedSeed(SEED).withExamples(200).forAll(integers().between(2, Integer.MAX_VALUE), booleans().all())
        .checkAssert(RequestDecodersFuzzTest::declaredSizeIsRejectedWithoutAllocating);
  }

  private static void declaredSizeIsRejectedWithoutAllocating(int declared, boolean array) {
    byte[] valid = AvroMessages.encode(InferenceRequest.newBuilder().setId("a").setPrompt("x").build());
    java.io.ByteArrayOutputStream record = new java.io.ByteArrayOutputStream();
    record.write(valid, 0, 10); // marker and fingerprint
    record.writeBytes(new byte[] {2, 'a'}); // id "a"
    if (array) {
      record.writeBytes(new byte[] {0, 2}); // no prompt; messages: the array branch
    } else {
      record.write(2); // prompt: the string branch
    }
    record.writeBytes(zigZagVarint(declared));
    record.write('x');
    AVRO_DECODER.decode(RawRecord.fromKafka("fuzz", 0, 0, valid)); // Avro's first-use set-up is not what is measured
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
    Decoded decoded = AVRO_DECODER.decode(RawRecord.fromKafka("fuzz", 0, 0, record.toByteArray()));
    long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
    assertThat(allocated).as("bytes allocated to reject a record declaring %d", declared).isLessThan(1 << 20);
    assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
    assertThat(((Decoded.Rejected) decoded).deadLetter().getReason()).isEqualTo(DeadLetterReason.UNDECODABLE);
  }

  private static byte[] zigZagVarint(long n) {
    long z = (n << 1) ^ (n >> 63);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  @Test
  void arbitraryBytesNeverSurpriseEitherDecoder() {
    qt().withFixedSeed(SEED).withExamples(500).forAll(longs().all()).checkAssert(seed -> {
      Random random = new Random(seed);
      byte[] bytes = new byte[random.nextInt(random.nextBoolean() ? 16 : 512)];
      random.nextBytes(bytes);
      assertDecodedWithoutSurprise(JSON_DECODER, bytes);
      assertDecodedWithoutSurprise(AVRO_DECODER, bytes);
    });
  }

  private static void assertDecodedWithoutSurprise(RequestDecoder decoder, byte[] bytes) {
    Decoded decoded = decoder.decode(RawRecord.fromKafka("fuzz", 0, 0, bytes));
    if (decoded instanceof Decoded.Rejected rejected) {
      assertThat(rejected.deadLetter().getReason())
          .as("dead letter of %s: %s", new String(bytes, StandardCharsets.UTF_8), rejected.deadLetter().getMessage())
          .isNotEqualTo(DeadLetterReason.OTHER);
      java.nio.ByteBuffer original = rejected.deadLetter().getOriginal().duplicate();
      byte[] kept = new byte[original.remaining()];
      original.get(kept);
      assertThat(kept).as("the dead letter keeps the record's bytes").isEqualTo(bytes);
    }
  }

  /** A valid single-object encoded request, then cut, extended or with bytes changed. */
  private static byte[] avroRecord(Random random) {
    byte[] valid = AvroMessages.encode(validRequest(random));
    byte[] bytes = valid.clone();
    switch (random.nextInt(5)) {
      case 0 -> { // flip bytes after the header (the fingerprint stays, so Avro decodes the body)
        for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
          int at = 10 + random.nextInt(Math.max(1, bytes.length - 10));
          if (at < bytes.length) {
            bytes[at] = (byte) random.nextInt(256);
          }
        }
      }
      case 1 -> bytes = java.util.Arrays.copyOf(valid, random.nextInt(valid.length + 1)); // truncate
      case 2 -> { // huge or negative lengths: a zig-zag varint of extreme values after the header
        byte[] tail = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0x0F};
        bytes = java.util.Arrays.copyOf(valid, 10 + tail.length);
        System.arraycopy(tail, 0, bytes, 10, tail.length);
        if (random.nextBoolean()) {
          bytes[10] = (byte) 0xFE; // negative
        }
      }
      case 3 -> { // random body behind a valid header
        byte[] body = new byte[random.nextInt(64)];
        random.nextBytes(body);
        bytes = java.util.Arrays.copyOf(valid, 10 + body.length);
        System.arraycopy(body, 0, bytes, 10, body.length);
      }
      default -> { // trailing garbage
        bytes = java.util.Arrays.copyOf(valid, valid.length + 1 + random.nextInt(16));
      }
    }
    return bytes;
  }

  private static InferenceRequest validRequest(Random random) {
    InferenceRequest.Builder b = InferenceRequest.newBuilder().setId("r" + random.nextInt(1000));
    switch (random.nextInt(3)) {
      case 0 -> b.setPrompt(JsonMutations.text(random));
      case 1 -> b.setPromptTokenIds(List.of(0, random.nextInt(100), 7));
      default -> b.setMessages(List.of(io.moeflink.schemas.ChatMessage.newBuilder().setRole("user")
          .setContent(JsonMutations.text(random)).build()));
    }
    return b.build();
  }
}
