#!/usr/bin/env node
// CLI entry: runs the compiled composition root (built by `npm install` through the prepare script).
import('../dist/app/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
