// The repository root stays CommonJS because PM2 require()s ecosystem.config.js; the TypeScript
// code is ESM, declared by a {"type":"module"} package.json in src/ and test/. The compiled tree
// needs the same marker, which tsc does not copy: this writes it.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

writeFileSync(join(process.argv[2] ?? 'dist', 'package.json'), '{ "type": "module" }\n');
