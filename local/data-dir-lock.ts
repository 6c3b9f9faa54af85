import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../functions/core/errors';

/** The file whose lock is held (an empty SQLite database; kept in the folder between runs). */
const LOCK_FILE = 'npm-start.lock';
/** The pid of the run holding the lock, for the message a second run prints (information only). */
const PID_FILE = 'npm-start.pid';

/** SQLite's SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock. */
const BUSY_CODES = new Set([5, 6]);

/** A second `npm start` on a DATA_DIR another one holds: said in one line, no stack trace. */
export class DataDirInUseError extends ConfigError {
  constructor(
    readonly dataPath: string,
    readonly pid?: number,
  ) {
    super(
      `DATA_DIR ${dataPath} is in use by another npm start${pid ? ` (pid ${pid})` : ''}; ` +
        'stop that one first, or give this one another DATA_DIR (DATA_DIR=:memory: keeps nothing)',
    );
  }
}

export interface DataDirLock {
  /** Lets the next run have the folder (also done by the kernel if the process dies). */
  release: () => void;
}

/**
 * One `npm start` per DATA_DIR: two runs on one folder would share the queues' SQLite and fight
 * over the dedupe table's LevelDB (the second died with dynalite's `Database is closed`).
 *
 * The lock is an exclusive SQLite transaction (node:sqlite, which fauxqs already uses for the
 * queues) on `DATA_DIR/npm-start.lock`, i.e. a POSIX lock the kernel drops when the process ends,
 * however it ends. So a run killed with SIGKILL leaves nothing to clean up or guess about, unlike
 * a pid file created with O_EXCL (a stale file must be judged by whether its pid is alive: wrong
 * after a pid is reused, as in a restarted container, and racy when two runs remove it at once)
 * or proper-lockfile (staleness by mtime: a restart within its `stale` window is refused, and it
 * would be a new dependency). The pid file beside it only names the holder in the message.
 * The lock file itself is never deleted: deleting it would let two runs lock two different files.
 */
export function lockDataDir(dataPath: string): DataDirLock {
  const pidPath = path.join(dataPath, PID_FILE);
  const db = new DatabaseSync(path.join(dataPath, LOCK_FILE), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (BUSY_CODES.has((error as { errcode?: number }).errcode ?? -1)) throw new DataDirInUseError(dataPath, holderPid(pidPath));
    throw new ConfigError(`DATA_DIR ${dataPath}: cannot lock ${LOCK_FILE} (${(error as Error).message})`, { cause: error });
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      if (holderPid(pidPath) === process.pid) rmSync(pidPath, { force: true });
      db.close();
    },
  };
}

/** The pid the holder wrote, if it is a live process. */
function holderPid(pidPath: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidPath, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
