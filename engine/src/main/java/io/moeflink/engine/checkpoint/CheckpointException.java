package io.moeflink.engine.checkpoint;

/**
 * A model file that cannot be loaded: truncated, malformed, or not the tensor the model expects.
 * The message names the file and tensor, the actual and the expected value.
 */
public final class CheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
