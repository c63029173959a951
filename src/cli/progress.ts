/**
 * What a running job looks like on stderr: a cli-progress bar (state, queue position, serving model) on a
 * terminal, plain lines elsewhere (CI logs, pipes) printed only when something changed.
 */
import cliProgress from 'cli-progress';
import type { JobStatus } from '../client/index.js';

export interface ProgressReporter {
  accepted(jobId: string): void;
  update(status: JobStatus): void;
  /** The answer is written; stops the bar. */
  done(file: string, servedBy: string | null): void;
  /** Stops the bar without a final line (on failure). */
  stop(): void;
}

const percent = (p: number | null): number | null => (p === null || p === undefined ? null : Math.round(Math.min(1, Math.max(0, p)) * 100));

/** One line of a status: `queued (position 2)`, `running 40%`. */
export function statusLine(status: JobStatus): string {
  if (status.state === 'queued') return status.queue_position !== null && status.queue_position !== undefined ? `queued (position ${status.queue_position})` : 'queued';
  const p = percent(status.progress);
  if (status.state === 'running') return p === null ? 'running' : `running ${p}%`;
  return status.state;
}

const doneLine = (file: string, servedBy: string | null): string => `done: ${file}${servedBy ? ` (served by ${servedBy})` : ''}\n`;

export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream);
}

function lineProgress(stream: NodeJS.WritableStream): ProgressReporter {
  let last = '';
  return {
    accepted: (jobId) => stream.write(`accepted: job ${jobId}\n`),
    update(status) {
      const line = statusLine(status);
      if (line !== last && status.state !== 'succeeded') stream.write(`${line}\n`);
      last = line;
    },
    done: (file, servedBy) => stream.write(doneLine(file, servedBy)),
    stop() {},
  };
}

function barProgress(stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    { stream, format: '{state} |{bar}| {percentage}% {queue}{served}', hideCursor: true, clearOnComplete: true, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const payload = (s: JobStatus | null, jobId = '') => ({
    state: s ? s.state.padEnd(9) : 'submitted',
    queue: s?.state === 'queued' && s.queue_position !== null && s.queue_position !== undefined ? `| queue ${s.queue_position} ` : '',
    served: s?.served_by ? `| ${s.served_by.model}` : jobId ? `| ${jobId}` : '',
  });
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  return {
    accepted(jobId) {
      bar.start(100, 0, payload(null, jobId));
      started = true;
    },
    update(status) {
      if (!started) {
        bar.start(100, 0, payload(status));
        started = true;
      }
      bar.update(percent(status.progress) ?? 0, payload(status));
    },
    done(file, servedBy) {
      stop();
      stream.write(doneLine(file, servedBy));
    },
    stop,
  };
}
