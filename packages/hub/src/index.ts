// Hugging Face hub downloads into a cache shared with the Python tools, with an offline mode.
export { resolveHubSettings, defaultCacheDir, DEFAULT_ENDPOINT, type HubOptions, type HubSettings } from './settings';
export { HubError, HubIntegrityError, HubOfflineError } from './errors';
export { RepoCache, repoFolderName, normalizeEtag, COMMIT_RE, type RepoType } from './cache';
export { HubRepo, formatBytes, type RepoFile } from './repo';
export {
  resolveModelDir,
  isHubId,
  isLocalPath,
  expandHome,
  MODEL_REQUIRED_FILES,
  MODEL_OPTIONAL_FILES,
  SAFETENSORS_SINGLE,
  SAFETENSORS_INDEX,
} from './model';
export { resolveDatasetFiles, resolveDatasetSplit, PARQUET_CONVERSION_REVISION, type DatasetFiles } from './dataset';
export {
  pickSplitFiles,
  parseCardConfigs,
  globToRegExp,
  dataExtension,
  DATA_EXTENSIONS,
  type CardConfig,
  type SplitQuery,
  type SplitPick,
} from './splits';
