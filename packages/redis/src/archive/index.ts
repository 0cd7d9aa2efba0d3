// Run archives (issue 21 §2): the file format, moving finished runs out of Redis, reading them back.
export { type ArchiveRunsResult, archiveRuns, type RunToArchive } from './archive-runs.js';
export {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type ArchiveContent,
  type ArchivedJob,
  type ArchivedKey,
  type ArchivedMessage,
  type ArchiveHeader,
  decodeArchive,
  encodeArchive,
  RunArchiveError,
  readArchiveFile,
  writeArchiveFile,
} from './format.js';
export { ArchivedRun, openRunArchive, type RunArchive, runArchiveDir } from './reader.js';
export { RunQueues } from './snapshot.js';
