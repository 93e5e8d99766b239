# {{packageName}}
