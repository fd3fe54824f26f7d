package io.moeflink.connectors.codec;

import io.moeflink.schemas.DeadLetterReason;

/**
 * Why one input record cannot become a request. Checked, so that every decoding path has to
 * decide what to do with it: the connectors turn it into exactly one dead letter.
 */
public final class InvalidRecordException extends Exception {

  private static final long serialVersionUID = 1L;

  /** The dead letter's reason code. */
  private final DeadLetterReason reason;

  /** The request's id when it could be read before the problem was found; else null. */
  private final String requestId;

  public InvalidRecordException(DeadLetterReason reason, String message) {
    this(reason, message, null, null);
  }

  public InvalidRecordException(DeadLetterReason reason, String message, Throwable cause) {
    this(reason, message, null, cause);
  }

  private InvalidRecordException(
      DeadLetterReason reason, String message, String requestId, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
    this.requestId = requestId;
  }

  public DeadLetterReason reason() {
    return reason;
  }

  /** The request id, or null when the record had none or it could not be read. */
  public String requestId() {
    return requestId;
  }

  /** The same problem, now known to belong to request {@code id}. */
  public InvalidRecordException forRequest(String id) {
    return requestId != null ? this : new InvalidRecordException(reason, getMessage(), id, getCause());
  }
}
