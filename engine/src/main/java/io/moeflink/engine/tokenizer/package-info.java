/**
 * Text to token ids and back, in pure Java: the Hugging Face {@code tokenizer.json} of a model
 * directory (byte-level BPE with its normalizer, pre-tokenizer split rules and added tokens) or a
 * {@code tiktoken.model} vocabulary, and the {@code chat_template} of its {@code
 * tokenizer_config.json}, rendered the way Hugging Face's {@code apply_chat_template} renders it.
 *
 * <p>Entry point: {@link io.moeflink.engine.tokenizer.Tokenizer#load(java.nio.file.Path)}.
 */
package io.moeflink.engine.tokenizer;
