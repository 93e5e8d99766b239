import * as path from 'node:path';

/** Built-in plugins are dependencies of the CLI, so they resolve from its own folder. */
export const CLI_SEARCH_PATHS = [path.resolve(__dirname, '..')];
