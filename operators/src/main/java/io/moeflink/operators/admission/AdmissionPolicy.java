package io.moeflink.operators.admission;

import java.io.Serializable;

/**
 * What admission accepts.
 *
 * @param modelName the name requests may ask for (null or blank: any name is refused except
 *     none)
 * @param maxPromptTokens longest prompt accepted; 0 means the model's context
 * @param defaultMaxTokens max tokens of a request that gives none
 */
public record AdmissionPolicy(String modelName, int maxPromptTokens, int defaultMaxTokens) implements Serializable {

  public AdmissionPolicy {
    if (maxPromptTokens < 0) {
      throw new IllegalArgumentException("maxPromptTokens is " + maxPromptTokens + ", expected 0 (the context) or more");
    }
    if (defaultMaxTokens < 1) {
      throw new IllegalArgumentException("defaultMaxTokens is " + defaultMaxTokens + ", expected at least 1");
    }
  }
}
