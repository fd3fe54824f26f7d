package io.moeflink.jobs;

/**
 * A mistake in what the user asked for (a missing file, an option out of range, options that do
 * not go together), found before any work starts. The message is one sentence that says what is
 * wrong and what to do; the CLI prints it as its only line and exits with 2.
 */
public final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }

  public UsageException(String message, Throwable cause) {
    super(message, cause);
  }
}
