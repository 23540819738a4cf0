/** Stacks under test take turns on the one broker: they share the manifests' consumer groups. */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

const TURN_DIR = path.join(tmpdir(), 'integr8scode-stack-turn');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const ageMs = (file: string): number => {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

/** The pid of the process whose turn it is; 0 while it is still writing it (or has just released). */
function holderOfTurn(): number {
  try {
    return Number(readFileSync(path.join(TURN_DIR, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/**
 * Waits for this machine's turn to run a stack (test files may run in parallel workers), then for any
 * other stack on the broker to stop. Returns the release; a turn whose process died is taken over.
 */
export async function takeStackTurn(brokers: string, timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (let announced = false; ; announced = true) {
    try {
      mkdirSync(TURN_DIR); // atomic: exactly one process creates it
      writeFileSync(path.join(TURN_DIR, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = holderOfTurn();
      // A dead holder's turn is over; so is one that never wrote its pid (it died between the calls above).
      if (holder > 0 ? !alive(holder) : ageMs(TURN_DIR) > 10_000)
        rmSync(TURN_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`process ${holder} kept its stack turn for too long`);
      if (!announced) console.warn(`[test] waiting for the stack of process ${holder} to stop`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const release = () => rmSync(TURN_DIR, { recursive: true, force: true });
  try {
    await waitForIdleStackGroups(brokers, Math.max(1000, deadline - Date.now()));
  } catch (error) {
    release();
    throw error;
  }
  return release;
}
