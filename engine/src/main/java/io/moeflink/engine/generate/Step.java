package io.moeflink.engine.generate;

import io.moeflink.engine.model.ForwardPass;
import java.util.List;

/**
 * One forward pass of a {@link BatchScheduler}: the pass and, per chunk, the sequence it feeds.
 */
public record Step(ForwardPass pass, List<Sequence> sequences) {}
