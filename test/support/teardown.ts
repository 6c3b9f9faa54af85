/**
 * Runs every step of a teardown in order, each whatever the previous ones did, then throws the
 * first failure: a server that fails to stop never leaves the next one running (and jest alive).
 */
export async function stopAll(...steps: (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
