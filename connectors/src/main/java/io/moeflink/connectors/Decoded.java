package io.moeflink.connectors;

import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;

/**
 * What one input record became: a request ready for admission, or a dead letter. Decoding returns
 * this instead of throwing, so the one-record-in, one-result-out rule is visible in the types.
 */
public sealed interface Decoded permits Decoded.Request, Decoded.Rejected {

  /** A valid request. */
  record Request(InferenceRequest request) implements Decoded {}

  /** A record that could not become a request. */
  record Rejected(DeadLetter deadLetter) implements Decoded {}
}
