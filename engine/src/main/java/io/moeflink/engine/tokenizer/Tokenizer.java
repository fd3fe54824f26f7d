package io.moeflink.engine.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokenizer of a Hugging Face model directory: {@code tokenizer.json} (byte-level BPE, as
 * DeepSeek-V3 and GPT-2-style models ship it) or else {@code tiktoken.model} (the Kimi K2 /
 * Moonlight family), plus what {@code tokenizer_config.json} adds (BOS/EOS per {@code
 * add_bos_token}/{@code add_eos_token}, the chat template).
 *
 * <pre>{@code
 * Tokenizer tokenizer = Tokenizer.load(modelDir);
 * int[] prompt = tokenizer.applyChatTemplate(List.of(new ChatMessage("user", "Hi")), true);
 * String text = tokenizer.decode(generated);
 * }</pre>
 *
 * <p><b>Pure Java.</b> The ids are those of Hugging Face's tokenizers library (checked id for id
 * against its DJL binding in the tests); no native library is loaded and no thread is started, so
 * a Flink job that holds a tokenizer leaves nothing behind that would keep its class loader alive
 * after it ends.
 *
 * <p><b>Special tokens.</b> {@link #encode} adds nothing: DeepSeek-V3's post-processor adds no BOS,
 * so the ids are those of the text alone (special-token text inside it, such as {@code <｜User｜>},
 * still maps to its id). {@link #encodePrompt} adds BOS as Hugging Face's {@code
 * LlamaTokenizerFast} does for {@code add_bos_token}. {@link #applyChatTemplate} adds nothing, since
 * the rendered template already holds the BOS text (Hugging Face tokenizes it with {@code
 * add_special_tokens=False}).
 *
 * <p><b>Threads.</b> Encoding, decoding and chat rendering are safe from several threads at once;
 * the only mutable state is a cache of encoded words.
 */
public final class Tokenizer {

  private static final Logger LOG = LoggerFactory.getLogger(Tokenizer.class);

  /** The file that defines the tokenizer in a Hugging Face model directory. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** The vocabulary of tiktoken-based models, read when there is no {@code tokenizer.json}. */
  public static final String TIKTOKEN_FILE = TiktokenFile.FILE_NAME;

  private final BpeTokenizer codec;
  private final TokenizerConfig config;
  private final OptionalInt bosId;
  private final OptionalInt eosId;
  private final Optional<ChatTemplate> chatTemplate;

  private Tokenizer(BpeTokenizer codec, TokenizerConfig config, OptionalInt bosId, OptionalInt eosId) {
    this.codec = codec;
    this.config = config;
    this.bosId = bosId;
    this.eosId = eosId;
    this.chatTemplate =
        config
            .chatTemplate()
            .map(
                source ->
                    new ChatTemplate(
                        source, config.bosToken().orElse(""), config.eosToken().orElse("")));
  }

  /** Whether {@code modelDir} holds a tokenizer ({@code tokenizer.json} or {@code tiktoken.model}). */
  public static boolean isPresentIn(Path modelDir) {
    return Files.isRegularFile(modelDir.resolve(TOKENIZER_FILE))
        || Files.isRegularFile(modelDir.resolve(TIKTOKEN_FILE));
  }

  /**
   * Loads {@code tokenizer.json} (or, without one, {@code tiktoken.model}) and, if present, {@code
   * tokenizer_config.json} from a model directory.
   *
   * @throws NoSuchFileException if the directory has neither tokenizer file
   * @throws IOException if a file cannot be read or is not a tokenizer definition this class reads
   */
  public static Tokenizer load(Path modelDir) throws IOException {
    Path file = modelDir.resolve(TOKENIZER_FILE);
    Path tiktoken = modelDir.resolve(TIKTOKEN_FILE);
    if (!Files.isRegularFile(file) && !Files.isRegularFile(tiktoken)) {
      throw new NoSuchFileException(
          file.toString(),
          null,
          "no "
              + TOKENIZER_FILE
              + " (nor "
              + TIKTOKEN_FILE
              + ") in model directory "
              + modelDir
              + " (a Hugging Face model directory holds tokenizer.json and tokenizer_config.json)");
    }
    long start = System.nanoTime();
    ObjectMapper json = jsonWithoutThreadLocals();
    BpeTokenizer codec;
    Path source;
    if (Files.isRegularFile(file)) {
      codec = TokenizerJson.read(readJson(file, json), file);
      source = file;
    } else {
      Path configFile = modelDir.resolve(TokenizerConfig.FILE_NAME);
      codec = TiktokenFile.readKimi(tiktoken, Files.isRegularFile(configFile) ? readJson(configFile, json) : null);
      source = tiktoken;
    }
    TokenizerConfig config = TokenizerConfig.read(modelDir, json);
    OptionalInt bosId = specialTokenId(codec, config.bosToken(), "bos_token", modelDir, source);
    OptionalInt eosId = specialTokenId(codec, config.eosToken(), "eos_token", modelDir, source);
    if (config.addBosToken() && bosId.isEmpty()) {
      throw new IOException(
          "add_bos_token is true in " + modelDir.resolve(TokenizerConfig.FILE_NAME)
              + " but no bos_token is given");
    }
    if (config.addEosToken() && eosId.isEmpty()) {
      throw new IOException(
          "add_eos_token is true in " + modelDir.resolve(TokenizerConfig.FILE_NAME)
              + " but no eos_token is given");
    }
    Tokenizer tokenizer = new Tokenizer(codec, config, bosId, eosId);
    LOG.info(
        "Tokenizer loaded from {}: {} ids, bos {}, eos {}, chat template {}, {} ms",
        source,
        codec.size(),
        bosId,
        eosId,
        tokenizer.chatTemplate.isPresent() ? "present" : "absent",
        (System.nanoTime() - start) / 1_000_000);
    return tokenizer;
  }

  /**
   * Jackson's default buffer pool keeps a buffer in a thread-local of every thread that parses;
   * the buffer's class would pin the job's class loader for as long as the thread lives (a thread
   * of Flink's or of the CLI that outlives the job). Parsing twice per load needs no pool.
   */
  private static ObjectMapper jsonWithoutThreadLocals() {
    return new ObjectMapper(
        JsonFactory.builder().recyclerPool(JsonRecyclerPools.nonRecyclingPool()).build());
  }

  private static JsonNode readJson(Path file, ObjectMapper json) throws IOException {
    JsonNode root;
    try {
      root = json.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException(file + " must hold a JSON object");
    }
    return root;
  }

  private static OptionalInt specialTokenId(
      BpeTokenizer codec, Optional<String> text, String key, Path modelDir, Path source)
      throws IOException {
    if (text.isEmpty()) {
      return OptionalInt.empty();
    }
    OptionalInt id = codec.idOf(text.get());
    if (id.isEmpty()) {
      throw new IOException(
          key + " \"" + text.get() + "\" of " + modelDir.resolve(TokenizerConfig.FILE_NAME)
              + " is not a token of " + source);
    }
    return id;
  }

  /** The ids of {@code text} alone; no BOS, EOS or other special tokens are added. */
  public int[] encode(String text) {
    return codec.encode(text);
  }

  /**
   * The ids of a plain (non-chat) prompt: BOS first if {@code add_bos_token} and EOS last if {@code
   * add_eos_token}. BOS appears once: if the text itself starts with the BOS text, no second BOS is
   * added (Hugging Face would add one; a doubled BOS only degrades the completion).
   */
  public int[] encodePrompt(String text) {
    int[] ids = encode(text);
    if (config.addBosToken() && (ids.length == 0 || ids[0] != bosId.getAsInt())) {
      int[] withBos = new int[ids.length + 1];
      withBos[0] = bosId.getAsInt();
      System.arraycopy(ids, 0, withBos, 1, ids.length);
      ids = withBos;
    }
    if (config.addEosToken() && (ids.length == 0 || ids[ids.length - 1] != eosId.getAsInt())) {
      ids = Arrays.copyOf(ids, ids.length + 1);
      ids[ids.length - 1] = eosId.getAsInt();
    }
    return ids;
  }

  /** The text of {@code ids}, special tokens included. */
  public String decode(int[] ids) {
    return decode(ids, false);
  }

  /**
   * The text of {@code ids}. A sequence that ends inside a multi-byte character decodes to U+FFFD
   * for the incomplete bytes; decode the whole sequence again once more tokens arrive.
   *
   * @param skipSpecialTokens whether the tokens that {@code tokenizer.json} marks {@code special}
   *     are left out (in DeepSeek-V3: BOS, EOS and padding, but not {@code <｜User｜>} or {@code
   *     <｜Assistant｜>})
   */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= codec.size()) {
        throw new IllegalArgumentException(
            "token id " + ids[i] + " at index " + i + " is outside [0, " + codec.size() + ")");
      }
    }
    return codec.decode(ids, skipSpecialTokens);
  }

  /**
   * Decodes generated tokens: like {@code decode(ids, true)}, but ids the tokenizer does not know
   * are left out instead of refused. A model's embedding table is often padded past the
   * tokenizer's vocabulary (DeepSeek-V3: 129280 rows, 128815 tokens); a trained model never picks
   * those rows, an untrained one may, and a completion must not fail over it.
   */
  public String decodeGenerated(int[] ids) {
    int[] known = Arrays.stream(ids).filter(id -> id >= 0 && id < codec.size()).toArray();
    return decode(known, true);
  }

  /**
   * The prompt text of a conversation, rendered by the model's chat template.
   *
   * @throws IllegalStateException if the model directory has no chat template
   * @throws ChatTemplateException if the template rejects the conversation
   */
  public String renderChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return renderChatTemplate(messages, addGenerationPrompt, Thinking.TEMPLATE_DEFAULT);
  }

  /** As {@link #renderChatTemplate(List, boolean)}, with the template's {@code thinking} variable as asked. */
  public String renderChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt, Thinking thinking) {
    return chatTemplate
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "This tokenizer has no chat template: tokenizer_config.json has no"
                        + " chat_template and there is no chat_template.jinja"))
        .render(messages, addGenerationPrompt, thinking);
  }

  /**
   * The prompt ids of a conversation: the rendered chat template, encoded without adding special
   * tokens (its BOS comes from the template's {@code {{ bos_token }}}).
   *
   * @throws IllegalStateException if the model directory has no chat template
   * @throws ChatTemplateException if the template rejects the conversation
   */
  public int[] applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return encode(renderChatTemplate(messages, addGenerationPrompt));
  }

  /** As {@link #applyChatTemplate(List, boolean)}, with the template's {@code thinking} variable as asked. */
  public int[] applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt, Thinking thinking) {
    return encode(renderChatTemplate(messages, addGenerationPrompt, thinking));
  }

  /** Whether the model directory defines a chat template. */
  public boolean hasChatTemplate() {
    return chatTemplate.isPresent();
  }

  /** The id of {@code bos_token} of {@code tokenizer_config.json}, if it names one. */
  public OptionalInt bosId() {
    return bosId;
  }

  /** The id of {@code eos_token} of {@code tokenizer_config.json}, if it names one. */
  public OptionalInt eosId() {
    return eosId;
  }

  /**
   * The bytes that token {@code id} adds to a decoded text (before UTF-8 is read), or null for an
   * added or special token, an unused id, or a tokenizer whose decoder joins tokens with spaces.
   * Constrained decoding matches these bytes against its automaton.
   */
  public byte[] tokenBytes(int id) {
    return codec.bytesOf(id);
  }

  /**
   * One more than the largest id the tokenizer can produce (vocabulary plus added tokens). The
   * model's {@code vocab_size} may be larger (DeepSeek-V3: 128815 here, 129280 in config.json).
   */
  public int vocabSize() {
    return codec.size();
  }
}
