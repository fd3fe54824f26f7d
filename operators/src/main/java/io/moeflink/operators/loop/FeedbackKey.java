package io.moeflink.operators.loop;

/**
 * Identifies one feedback channel: the loop of one job, for one generation subtask, in one
 * execution attempt. The attempt is part of the key so that a restarted task never picks up a
 * channel (and stale replies) of the attempt before.
 */
public record FeedbackKey(String jobId, String loopId, int subtask, int attempt) {}
