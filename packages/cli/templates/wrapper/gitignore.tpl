node_modules/
dist/
*.tsbuildinfo
