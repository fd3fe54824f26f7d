/**
 * Text to token ids and back: the Hugging Face {@code tokenizer.json} of a model directory (through
 * DJL's binding of the Rust tokenizers library) and the {@code chat_template} of its {@code
 * tokenizer_config.json}, rendered the way Hugging Face's {@code apply_chat_template} renders it.
 *
 * <p>Entry point: {@link io.moeflink.engine.tokenizer.Tokenizer#load(java.nio.file.Path)}.
 */
package io.moeflink.engine.tokenizer;
