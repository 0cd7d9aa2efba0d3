// What a bench worker process (raw-worker.mjs, raw-llm-worker.mjs) does once its Worker exists: report
// errors on stderr, say READY when connected, and close the worker and its connection on SIGTERM/SIGINT.

/** @param {import('bullmq').Worker} worker @param {{ disconnect(): void }} connection */
export async function serveUntilSignalled(worker, connection) {
  worker.on('error', (error) => process.stderr.write(`worker: ${error.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write('READY\n');
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await worker.close();
    connection.disconnect();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
