import { S3Client } from '@aws-sdk/client-s3';
import { invokeJob, type JobInvocation, type JobProcessMessage } from './run-job';

/**
 * A job's handler in a process of its own (runJob's `isolate`, used by the bench): it reads the
 * object from the parent's embedded S3 and posts to the parent's sandbox, so the kernel's record of
 * this process's peak memory (VmHWM) is the job's, with no emulator in it. Receives one
 * JobInvocation, reports progress and the outcome, then exits.
 */
const report = (message: JobProcessMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

process.once('message', (invocation: JobInvocation) => {
  const s3 = new S3Client({
    endpoint: invocation.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  invokeJob(invocation, { s3, onProgress: (progress) => void report({ kind: 'progress', progress }), memory: 'high-water' })
    .then(
      (run) => report({ kind: 'done', run }).then(() => 0),
      (error: unknown) =>
        report({ kind: 'failed', name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) }).then(
          () => 1,
        ),
    )
    // Kept-alive connections to the emulators would hold the process open: it has said all it has to say.
    .then((code) => process.exit(code));
});
