package io.moeflink.engine.config;

/** A {@code config.json} that this engine cannot serve: names the key, its value and what is supported. */
public final class ModelConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ModelConfigException(String message) {
    super(message);
  }
}
