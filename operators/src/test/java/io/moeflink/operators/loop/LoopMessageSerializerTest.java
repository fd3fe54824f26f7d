package io.moeflink.operators.loop;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertResult;
import java.io.IOException;
import java.util.Random;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** Loop messages cross the network bit for bit, whatever their size. */
class LoopMessageSerializerTest {
  private static final int HIDDEN = 64;

  /** Floats that a lossy conversion would change: signed zero, subnormal, NaN payload, extremes. */
  private static float[] activations(int n, long seed) {
    Random random = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = switch (i % 7) {
        case 0 -> -0f;
        case 1 -> Float.MIN_VALUE * (1 + random.nextInt(100));
        case 2 -> Float.intBitsToFloat(0x7fc00001 + random.nextInt(1000)); // NaN with a payload
        case 3 -> Float.MAX_VALUE;
        default -> (float) random.nextGaussian();
      };
    }
    return x;
  }

  private static void assertSameBits(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToRawIntBits(actual[i])).as("bits of element %d", i)
          .isEqualTo(Float.floatToRawIntBits(expected[i]));
    }
  }

  @Test
  void expertRepliesLargerThanOneChunkRoundTripBitForBit() throws IOException {
    int pairs = 3 * 4096 / HIDDEN + 5; // spans several conversion chunks and ends mid-chunk
    float[] outputs = activations(pairs * HIDDEN, 1);
    ExpertReply.Serializer serializer = new ExpertReply.Serializer();
    DataOutputSerializer out = new DataOutputSerializer(64);
    serializer.serialize(new ExpertReply(2, 17L, 1, new ExpertResult(5, pairs, outputs)), out);
    ExpertReply back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    assertThat(back.origin()).isEqualTo(2);
    assertThat(back.step()).isEqualTo(17L);
    assertThat(back.shard()).isEqualTo(1);
    assertThat(back.result().layer()).isEqualTo(5);
    assertThat(back.result().pairs()).isEqualTo(pairs);
    assertSameBits(back.result().outputs(), outputs);
  }

  @Test
  void expertRequestsRoundTripBitForBit() throws IOException {
    float[] hidden = activations(2 * HIDDEN, 2);
    // token 0 goes to experts 4 and 9, token 1 to expert 1
    ExpertBatch batch = new ExpertBatch(3, 2, hidden, new int[] {1, 4, 9}, new int[] {0, 1, 2, 3}, new int[] {1, 0, 0});
    ExpertRequest.Serializer serializer = new ExpertRequest.Serializer();
    DataOutputSerializer out = new DataOutputSerializer(64);
    serializer.serialize(new ExpertRequest(0, 4L, 1, batch), out);
    ExpertRequest back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    assertThat(back.batch().layer()).isEqualTo(3);
    assertThat(back.batch().tokens()).isEqualTo(2);
    assertThat(back.batch().experts()).containsExactly(1, 4, 9);
    assertThat(back.batch().expertStarts()).containsExactly(0, 1, 2, 3);
    assertThat(back.batch().pairTokens()).containsExactly(1, 0, 0);
    assertSameBits(back.batch().hidden(), hidden);
  }

  @Test
  void floatsTravelAsBigEndianRawBits() throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(16);
    CodecSerializer.writeFloats(new float[] {1f, -0f}, out);
    assertThat(out.getCopyOfBuffer()).containsExactly(
        new byte[] {0, 0, 0, 2, 0x3f, (byte) 0x80, 0, 0, (byte) 0x80, 0, 0, 0}); // length 2, 1.0f, -0.0f
  }
}
