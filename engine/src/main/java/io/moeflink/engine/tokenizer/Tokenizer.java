package io.moeflink.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.LibUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokenizer of a Hugging Face model directory: {@code tokenizer.json} through DJL's binding of
 * the Rust tokenizers library, plus what {@code tokenizer_config.json} adds (BOS/EOS per {@code
 * add_bos_token}/{@code add_eos_token}, the chat template).
 *
 * <pre>{@code
 * try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
 *   int[] prompt = tokenizer.applyChatTemplate(List.of(new ChatMessage("user", "Hi")), true);
 *   String text = tokenizer.decode(generated);
 * }
 * }</pre>
 *
 * <p><b>Special tokens.</b> {@link #encode} adds nothing: DeepSeek-V3's post-processor adds no BOS,
 * and DJL is told not to add special tokens, so the ids are those of the text alone (special-token
 * text inside it, such as {@code <｜User｜>}, still maps to its id). {@link #encodePrompt} adds BOS
 * as Hugging Face's {@code LlamaTokenizerFast} does for {@code add_bos_token}. {@link
 * #applyChatTemplate} adds nothing, since the rendered template already holds the BOS text (Hugging
 * Face tokenizes it with {@code add_special_tokens=False}).
 *
 * <p><b>Native library.</b> The tokenizers library ships inside DJL's jar and needs no network: on
 * first use DJL copies it to {@code <cache>/tokenizers/<version>-cpu-<platform>/} and loads it
 * from there. {@code <cache>} is DJL's cache directory: the {@code ENGINE_CACHE_DIR} or {@code
 * DJL_CACHE_DIR} environment variable (or system property of that name) when set, else {@code
 * ~/.djl.ai}, else {@code <java.io.tmpdir>/.djl.ai} when the home directory is not writable. The
 * engine reads and sets no system property itself: configure DJL through the environment of the
 * process (launcher, pod spec). Two DJL behaviours need it:
 *
 * <ul>
 *   <li>On a machine where DJL finds a CUDA runtime (through JNA) with a GPU of compute capability
 *       8.0, 8.6, 8.9 or 9.0, DJL 0.38 wants a CUDA build of the library, which the jar does not
 *       hold, and downloads it; offline that fails and no tokenizer loads. {@code RUST_FLAVOR=cpu}
 *       (or {@code DJL_OFFLINE=true}) keeps it on the bundled CPU build.
 *   <li>On EC2 or SageMaker DJL pings a usage counter; {@code OPT_OUT_TRACKING=true} (or {@code
 *       DJL_OFFLINE=true}) turns that off.
 * </ul>
 *
 * <p><b>Threads.</b> Encoding, decoding and chat rendering are safe from several threads at once:
 * the native tokenizer is only read after loading. {@link #close()} frees native memory and must
 * happen after every other call has returned.
 */
public final class Tokenizer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Tokenizer.class);

  /** The file that defines the tokenizer in a Hugging Face model directory. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /**
   * DJL's defaults would add special tokens, truncate to 512 tokens and pad; this engine wants the
   * text's ids exactly.
   */
  private static final Map<String, String> RAW_OPTIONS =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

  /** The Rust tokenizer; holds native memory until {@link #close()}. */
  private final HuggingFaceTokenizer library;
  private final TokenizerConfig config;
  private final OptionalInt bosId;
  private final OptionalInt eosId;
  private final int vocabSize;
  private final Optional<ChatTemplate> chatTemplate;

  private Tokenizer(
      HuggingFaceTokenizer library,
      TokenizerConfig config,
      OptionalInt bosId,
      OptionalInt eosId,
      int vocabSize) {
    this.library = library;
    this.config = config;
    this.bosId = bosId;
    this.eosId = eosId;
    this.vocabSize = vocabSize;
    this.chatTemplate =
        config
            .chatTemplate()
            .map(
                source ->
                    new ChatTemplate(
                        source, config.bosToken().orElse(""), config.eosToken().orElse("")));
  }

  /**
   * Loads {@code tokenizer.json} and, if present, {@code tokenizer_config.json} from a model
   * directory.
   *
   * @throws NoSuchFileException if the directory has no {@code tokenizer.json}
   * @throws IOException if a file cannot be read or is not a valid tokenizer definition
   * @throws IllegalStateException if DJL's native library cannot be loaded
   */
  public static Tokenizer load(Path modelDir) throws IOException {
    Path file = modelDir.resolve(TOKENIZER_FILE);
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(
          file.toString(),
          null,
          "no "
              + TOKENIZER_FILE
              + " in model directory "
              + modelDir
              + " (a Hugging Face model directory holds tokenizer.json and tokenizer_config.json)");
    }
    long start = System.nanoTime();
    ObjectMapper json = new ObjectMapper();
    String definition = Files.readString(file, StandardCharsets.UTF_8);
    Vocabulary vocabulary = Vocabulary.parse(definition, file, json);
    TokenizerConfig config = TokenizerConfig.read(modelDir, json);
    OptionalInt bosId = specialTokenId(vocabulary, config.bosToken(), "bos_token", modelDir);
    OptionalInt eosId = specialTokenId(vocabulary, config.eosToken(), "eos_token", modelDir);
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
    Tokenizer tokenizer =
        new Tokenizer(
            createNative(definition, file), config, bosId, eosId, vocabulary.size());
    LOG.info(
        "Tokenizer loaded from {}: {} ids, bos {}, eos {}, chat template {}, {} ms",
        modelDir,
        vocabulary.size(),
        bosId,
        eosId,
        tokenizer.chatTemplate.isPresent() ? "present" : "absent",
        (System.nanoTime() - start) / 1_000_000);
    return tokenizer;
  }

  private static HuggingFaceTokenizer createNative(String definition, Path file)
      throws IOException {
    try {
      LibUtils.checkStatus();
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Cannot load the Hugging Face tokenizers native library bundled with DJL. DJL copies it"
              + " into its cache directory first: set ENGINE_CACHE_DIR or DJL_CACHE_DIR to a"
              + " writable directory; on a CUDA machine also set RUST_FLAVOR=cpu (or"
              + " DJL_OFFLINE=true), or DJL tries to download a CUDA build. Cause: "
              + rootMessage(e),
          e);
    }
    try {
      return HuggingFaceTokenizer.newInstance(
          new ByteArrayInputStream(definition.getBytes(StandardCharsets.UTF_8)), RAW_OPTIONS);
    } catch (RuntimeException e) {
      throw new IOException(
          file + " is not a tokenizer definition the tokenizers library accepts: " + rootMessage(e),
          e);
    }
  }

  private static OptionalInt specialTokenId(
      Vocabulary vocabulary, Optional<String> text, String key, Path modelDir) throws IOException {
    if (text.isEmpty()) {
      return OptionalInt.empty();
    }
    OptionalInt id = vocabulary.idOf(text.get());
    if (id.isEmpty()) {
      throw new IOException(
          key + " \"" + text.get() + "\" of " + modelDir.resolve(TokenizerConfig.FILE_NAME)
              + " is not a token of " + modelDir.resolve(TOKENIZER_FILE));
    }
    return id;
  }

  /** The ids of {@code text} alone; no BOS, EOS or other special tokens are added. */
  public int[] encode(String text) {
    return toInts(library.encode(text, false, false).getIds());
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
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalArgumentException(
            "token id " + ids[i] + " at index " + i + " is outside [0, " + vocabSize + ")");
      }
      wide[i] = ids[i];
    }
    return library.decode(wide, skipSpecialTokens);
  }

  /**
   * Decodes generated tokens: like {@code decode(ids, true)}, but ids the tokenizer does not know
   * are left out instead of refused. A model's embedding table is often padded past the
   * tokenizer's vocabulary (DeepSeek-V3: 129280 rows, 128815 tokens); a trained model never picks
   * those rows, an untrained one may, and a completion must not fail over it.
   */
  public String decodeGenerated(int[] ids) {
    int[] known = java.util.Arrays.stream(ids).filter(id -> id >= 0 && id < vocabSize).toArray();
    return decode(known, true);
  }

  /**
   * The prompt text of a conversation, rendered by the model's chat template.
   *
   * @throws IllegalStateException if the model directory has no chat template
   * @throws ChatTemplateException if the template rejects the conversation
   */
  public String renderChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return chatTemplate
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "This tokenizer has no chat template: tokenizer_config.json has no"
                        + " chat_template and there is no chat_template.jinja"))
        .render(messages, addGenerationPrompt);
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
   * One more than the largest id the tokenizer can produce (vocabulary plus added tokens). The
   * model's {@code vocab_size} may be larger (DeepSeek-V3: 128815 here, 129280 in config.json).
   */
  public int vocabSize() {
    return vocabSize;
  }

  /** Frees the native tokenizer. Idempotent. */
  @Override
  public void close() {
    library.close();
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + root.getMessage();
  }

  /** The token ids that {@code tokenizer.json} defines: its model's vocabulary and added tokens. */
  private record Vocabulary(Map<String, Integer> addedTokens, JsonNode modelVocab, int size) {

    static Vocabulary parse(String definition, Path file, ObjectMapper json) throws IOException {
      JsonNode root;
      try {
        root = json.readTree(definition);
      } catch (IOException e) {
        throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
      }
      JsonNode model = root == null ? null : root.get("model");
      if (model == null || !model.isObject()) {
        throw new IOException(
            file + " has no \"model\" object; is it a Hugging Face tokenizers file?");
      }
      JsonNode vocab = model.path("vocab");
      int maxId = -1;
      if (vocab.isObject()) { // BPE, WordPiece, WordLevel: {"token": id}
        for (JsonNode id : vocab) {
          maxId = Math.max(maxId, id.asInt());
        }
      } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = index
        maxId = vocab.size() - 1;
      } else {
        throw new IOException(file + " has no model.vocab");
      }
      Map<String, Integer> added = new HashMap<>();
      for (JsonNode token : root.path("added_tokens")) {
        int id = token.path("id").asInt(-1);
        String content = token.path("content").asText(null);
        if (id < 0 || content == null) {
          throw new IOException(file + " has an added token without id or content: " + token);
        }
        added.put(content, id);
        maxId = Math.max(maxId, id);
      }
      return new Vocabulary(Map.copyOf(added), vocab, maxId + 1);
    }

    OptionalInt idOf(String text) {
      Integer added = addedTokens.get(text);
      if (added != null) {
        return OptionalInt.of(added);
      }
      if (modelVocab.isObject() && modelVocab.has(text)) {
        return OptionalInt.of(modelVocab.get(text).asInt());
      }
      if (modelVocab.isArray()) {
        for (int i = 0; i < modelVocab.size(); i++) {
          if (text.equals(modelVocab.get(i).path(0).asText(null))) {
            return OptionalInt.of(i);
          }
        }
      }
      return OptionalInt.empty();
    }
  }
}
