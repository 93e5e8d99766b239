// One jest configuration for every package: swc compiles TypeScript with decorator metadata
// (tsyringe needs it) and turns the few ESM-only dependencies into CommonJS for jest's runtime.
const ESM_ONLY = ['hyparquet', 'hyparquet-writer'];

const fs = require('node:fs');
const path = require('node:path');

function workspaceSources() {
  const root = path.resolve(__dirname, '..', '..');
  const map = {};
  for (const group of ['packages', 'plugins', 'tooling']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      const pkgFile = path.join(dir, name, 'package.json');
      const src = path.join(dir, name, 'src', 'index.ts');
      if (!fs.existsSync(pkgFile) || !fs.existsSync(src)) continue;
      const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
      map[`^${pkg.name.replace(/[/@.-]/g, (c) => `\\${c}`)}$`] = src;
      // Subpath exports (`@bayes-peft/tensor/backend-names`) to their sources too.
      for (const [key, target] of Object.entries(pkg.exports ?? {})) {
        const js = typeof target === 'string' ? target : target?.default;
        const m = key.startsWith('./') && typeof js === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(js) : null;
        const file = m ? path.join(dir, name, 'src', `${m[1]}.ts`) : null;
        if (file && fs.existsSync(file)) map[`^${`${pkg.name}${key.slice(1)}`.replace(/[/@.-]/g, (c) => `\\${c}`)}$`] = file;
      }
    }
  }
  return map;
}

/**
 * ESM-only packages whose `exports` offer only an `import` condition, which jest's CommonJS
 * resolver ignores: point the bare specifier at the package's Node entry (swc then transforms it).
 */
function esmOnlyEntries(rootDir) {
  const map = {};
  for (const name of ESM_ONLY) {
    const pkgFile = findPackage(rootDir, name);
    if (!pkgFile) continue;
    const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
    const entry = pkg.exports?.['.']?.default;
    const file = typeof entry === 'string' ? entry : entry?.import ?? entry?.default ?? pkg.main;
    if (file) map[`^${name}$`] = path.join(fs.realpathSync(path.dirname(pkgFile)), file);
  }
  return map;
}

/** The package as the test's package sees it, else any copy in the workspace's pnpm store (a dependency's dependency). */
function findPackage(rootDir, name) {
  for (let dir = rootDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  const store = path.resolve(__dirname, '..', '..', 'node_modules', '.pnpm');
  const hit = fs.existsSync(store) ? fs.readdirSync(store).filter((d) => d.startsWith(`${name}@`)).sort().pop() : undefined;
  return hit ? path.join(store, hit, 'node_modules', name, 'package.json') : null;
}

/** @param {string} rootDir */
module.exports = function jestConfig(rootDir, overrides = {}) {
  return {
    rootDir,
    testEnvironment: require.resolve('./node-environment.js'),
    roots: ['<rootDir>/src', '<rootDir>/test'].filter((p) =>
      require('node:fs').existsSync(p.replace('<rootDir>', rootDir)),
    ),
    testMatch: ['**/*.test.ts'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    transform: {
      '^.+\\.(t|j|mj|cj)s$': [
        require.resolve('@swc/jest'),
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2022',
          },
          module: { type: 'commonjs' },
        },
      ],
    },
    transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/[^/]+/node_modules/)?(${ESM_ONLY.join('|')})/)`],
    // Workspace packages resolve to their TypeScript sources, so a test always sees the code
    // beside it and never a stale dist/.
    moduleNameMapper: { ...workspaceSources(), ...esmOnlyEntries(rootDir) },
    testTimeout: 120000,
    ...overrides,
  };
};
