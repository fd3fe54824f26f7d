package io.moeflink.connectors.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Requests as JSON lines, for people who publish from scripts and for corpus files.
 *
 * <p>Two shapes are read, told apart per line: ours, which uses the Avro field names of {@link
 * InferenceRequest} ({@code {"id":"r1","prompt":"Hi","sampling":{"max_tokens":16}}}; sampling
 * fields may also stand at the top level), and the OpenAI batch input format, recognised by its
 * {@code custom_id} (see {@link OpenAiBatchInput}). Unknown fields are ignored so that newer
 * producers do not break older jobs; known fields of the wrong type are rejected.
 */
public final class RequestJson {

  private static final String[] SAMPLING_FIELDS = {
    "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stop_token_ids"
  };

  private RequestJson() {}

  /** Reads one line (without its line break) in either shape; it is not yet validated. */
  public static InferenceRequest parse(byte[] line) throws InvalidRecordException {
    JsonObject record = JsonObject.root(Json.parse(line));
    if (record.has(OpenAiBatchInput.CUSTOM_ID)) {
      return OpenAiBatchInput.parse(record);
    }
    String id = readId(record, "id");
    try {
      return readOurs(record, id);
    } catch (InvalidRecordException e) {
      throw e.forRequest(id);
    }
  }

  /** Writes a request in our shape, as one line without a line break. */
  public static byte[] write(InferenceRequest request) {
    ObjectNode json = Json.object();
    json.put("id", request.getId());
    putIfSet(json, "prompt", request.getPrompt());
    if (request.getMessages() != null) {
      ArrayNode messages = json.putArray("messages");
      for (ChatMessage message : request.getMessages()) {
        messages.addObject().put("role", message.getRole()).put("content", message.getContent());
      }
    }
    if (request.getPromptTokenIds() != null) {
      ArrayNode ids = json.putArray("prompt_token_ids");
      request.getPromptTokenIds().forEach(ids::add);
    }
    putIfSet(json, "model", request.getModel());
    if (request.getThinking() != null) {
      json.put("thinking", request.getThinking());
    }
    SamplingParams sampling = request.getSampling();
    if (sampling != null) {
      ObjectNode s = json.putObject("sampling");
      putIfSet(s, "max_tokens", sampling.getMaxTokens());
      putIfSet(s, "temperature", sampling.getTemperature());
      putIfSet(s, "top_p", sampling.getTopP());
      putIfSet(s, "top_k", sampling.getTopK());
      putIfSet(s, "seed", sampling.getSeed());
      sampling.getStop().forEach(s.putArray("stop")::add);
      sampling.getStopTokenIds().forEach(s.putArray("stop_token_ids")::add);
    }
    json.put("priority", request.getPriority());
    putIfSet(json, "tenant", request.getTenant());
    request.getMetadata().forEach(json.putObject("metadata")::put);
    if (request.getResponseFormat() != null) {
      try {
        json.set("response_format", Json.MAPPER.readTree(request.getResponseFormat()));
      } catch (IOException notJson) {
        json.put("response_format", request.getResponseFormat()); // admission will say why
      }
    }
    return Json.bytes(json);
  }

  /** The id field: a non-blank string. */
  static String readId(JsonObject record, String field) throws InvalidRecordException {
    String id = record.string(field);
    if (id == null || id.isBlank()) {
      throw new InvalidRecordException(
          DeadLetterReason.MISSING_ID, "The record has no '" + field + "'; every request needs one");
    }
    return id;
  }

  /** Reads the sampling fields of {@code primary}, falling back to {@code fallback}'s. */
  static SamplingParams readSampling(JsonObject primary, JsonObject fallback)
      throws InvalidRecordException {
    boolean any = false;
    for (String field : SAMPLING_FIELDS) {
      any |= primary != null && primary.has(field) || fallback != null && fallback.has(field);
    }
    if (!any) {
      return null;
    }
    JsonObject p = primary != null ? primary : fallback;
    JsonObject f = fallback != null ? fallback : primary;
    List<String> stop = first(p.strings("stop", true), f.strings("stop", true));
    List<Integer> stopTokenIds = first(p.integers("stop_token_ids"), f.integers("stop_token_ids"));
    return SamplingParams.newBuilder()
        .setMaxTokens(first(p.integer("max_tokens"), f.integer("max_tokens")))
        .setTemperature(first(p.number("temperature"), f.number("temperature")))
        .setTopP(first(p.number("top_p"), f.number("top_p")))
        .setTopK(first(p.integer("top_k"), f.integer("top_k")))
        .setSeed(first(p.longInteger("seed"), f.longInteger("seed")))
        .setStop(stop != null ? stop : List.of())
        .setStopTokenIds(stopTokenIds != null ? stopTokenIds : List.of())
        .build();
  }

  private static InferenceRequest readOurs(JsonObject record, String id)
      throws InvalidRecordException {
    Map<String, String> metadata = record.stringMap("metadata");
    Integer priority = record.integer("priority");
    return InferenceRequest.newBuilder()
        .setId(id)
        .setPrompt(record.string("prompt"))
        .setMessages(readMessages(record.objects("messages")))
        .setPromptTokenIds(record.integers("prompt_token_ids"))
        .setModel(record.string("model"))
        .setSampling(readSampling(record.object("sampling"), record))
        .setPriority(priority != null ? priority : 0)
        .setTenant(record.string("tenant"))
        .setMetadata(metadata != null ? metadata : Map.of())
        .setThinking(record.bool("thinking"))
        .setResponseFormat(readResponseFormat(record))
        .build();
  }

  /**
   * {@code response_format}: an object (kept as its compact JSON text) or a string holding one;
   * what it asks for is checked at admission, which answers an unsupported schema with an error.
   */
  static String readResponseFormat(JsonObject record) throws InvalidRecordException {
    JsonNode format = record.value("response_format");
    if (format == null) {
      return null;
    }
    if (format.isTextual()) {
      return format.textValue();
    }
    if (!format.isObject()) {
      throw record.wrongType("response_format", "an object such as {\"type\": \"json_object\"}", format);
    }
    return format.toString();
  }

  /**
   * Chat messages: each needs a {@code role}; its {@code content} is a string or an array of
   * {@code {"type":"text","text":...}} parts (as OpenAI clients send it), absent meaning empty.
   */
  static List<ChatMessage> readMessages(List<JsonObject> items) throws InvalidRecordException {
    if (items == null) {
      return null;
    }
    List<ChatMessage> messages = new ArrayList<>(items.size());
    for (JsonObject item : items) {
      String role = item.string("role");
      if (role == null) {
        throw new InvalidRecordException(DeadLetterReason.INVALID_PROMPT, "A message has no 'role'");
      }
      messages.add(new ChatMessage(role, content(item)));
    }
    return messages;
  }

  private static String content(JsonObject message) throws InvalidRecordException {
    JsonNode content = message.value("content");
    if (content == null) {
      return "";
    }
    if (content.isTextual()) {
      return content.textValue();
    }
    if (!content.isArray()) {
      throw message.wrongType("content", "a string or an array of text parts", content);
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode part : content) {
      JsonNode type = part.get("type");
      JsonNode value = part.get("text");
      if (type == null || !"text".equals(type.asText()) || value == null || !value.isTextual()) {
        throw OpenAiBatchInput.unsupported("only text content parts are supported, got " + part);
      }
      text.append(value.textValue());
    }
    return text.toString();
  }

  private static <T> T first(T value, T fallback) {
    return value != null ? value : fallback;
  }

  private static void putIfSet(ObjectNode json, String field, Object value) {
    if (value != null) {
      json.putPOJO(field, value);
    }
  }
}
