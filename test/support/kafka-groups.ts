/** Waits until no other stack consumes as the KafkaSource consumer groups of the manifests. */
import { Kafka, logLevel } from 'kafkajs';
import { sourcesFromManifests } from '../../shared/bus/kafka/manifests';

/**
 * Stacks on one broker share the manifests' consumer groups, so two at once would split the partitions
 * and deliver one stack's records to the other's functions. Resolves once every group has no members.
 */
export async function waitForIdleStackGroups(brokers: string, timeoutMs = 180_000): Promise<void> {
  const groups = sourcesFromManifests('knative/base/kafka-sources.yaml', () => 'http://unused/').map(
    (source) => source.consumerGroup,
  );
  const admin = new Kafka({
    clientId: 'integr8scode-test-groups',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (let announced = false; ; announced = true) {
      const { groups: described } = await admin.describeGroups(groups);
      const busy = described.filter((group) => group.members.length > 0).map((group) => group.groupId);
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`another stack is still consuming as ${busy.join(', ')}`);
      if (!announced) console.warn(`[test] waiting for another stack to stop (${busy.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } finally {
    await admin.disconnect();
  }
}
