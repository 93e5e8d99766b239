#!/usr/bin/env bash
# Lays out one publishable workspace package: tooling/new-package.sh <dir> <name> "<description>" [dep-dir...]
set -euo pipefail
dir=$1; name=$2; desc=$3; shift 3
mkdir -p "$dir/src"
refs=""
for d in "$@"; do refs="$refs{ \"path\": \"$(realpath --relative-to="$dir" "$d")\" },"; done
refs="[${refs%,}]"
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "Apache-2.0",
  "main": "dist/index.js",
  "types": "dist/index.d.ts",
  "exports": {
    ".": { "types": "./dist/index.d.ts", "default": "./dist/index.js" },
    "./package.json": "./package.json"
  },
  "files": ["dist", "!dist/**/*.test.*", "README.md", "CHANGELOG.md"],
  "scripts": {
    "build": "tsc -b",
    "test": "jest"
  },
  "publishConfig": { "access": "public" }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tooling/tsconfig/base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist", "tsBuildInfoFile": "dist/.tsbuildinfo" },
  "include": ["src"],
  "exclude": ["src/**/*.test.ts", "src/**/*.test-support.ts", "src/**/__tests__/**"],
  "references": $refs
}
JSON
echo "module.exports = require('@bayes-peft/jest-preset')(__dirname);" > "$dir/jest.config.js"
