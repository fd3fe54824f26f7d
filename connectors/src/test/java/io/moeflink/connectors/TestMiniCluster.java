package io.moeflink.connectors;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The MiniCluster of the connector ITCases: one TaskManager, two slots (parallelism 2). */
final class TestMiniCluster {

  private TestMiniCluster() {}

  static MiniClusterExtension withTwoSlots() {
    return new MiniClusterExtension(
        new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());
  }
}
