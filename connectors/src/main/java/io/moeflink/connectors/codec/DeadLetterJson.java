package io.moeflink.connectors.codec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.FilePosition;
import io.moeflink.schemas.KafkaPosition;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Dead letters as JSON lines. The original bytes are always in {@code original_base64}; when they
 * are valid UTF-8 they are also in {@code original_text}, so a person can read a bad JSON line.
 */
public final class DeadLetterJson {

  private DeadLetterJson() {}

  /** One line, without its line break. */
  public static byte[] write(DeadLetter deadLetter) {
    ObjectNode json = Json.object();
    ObjectNode source = json.putObject("source");
    if (deadLetter.getSource() instanceof KafkaPosition kafka) {
      source.put("topic", kafka.getTopic())
          .put("partition", kafka.getPartition())
          .put("offset", kafka.getOffset());
    } else if (deadLetter.getSource() instanceof FilePosition file) {
      source.put("file", file.getFile()).put("line", file.getLine());
    }
    json.put("request_id", deadLetter.getRequestId());
    json.put("reason", deadLetter.getReason().name());
    json.put("message", deadLetter.getMessage());
    json.put("timestamp", deadLetter.getTimestamp().toString());
    json.put("original_size", deadLetter.getOriginalSize());
    byte[] original = bytes(deadLetter.getOriginal());
    json.put("original_base64", Base64.getEncoder().encodeToString(original));
    String text = utf8(original);
    if (text != null) {
      json.put("original_text", text);
    }
    return Json.bytes(json);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer view = buffer.duplicate();
    byte[] bytes = new byte[view.remaining()];
    view.get(bytes);
    return bytes;
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
