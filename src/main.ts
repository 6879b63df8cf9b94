#!/usr/bin/env node
import { main } from './cli.js';
import { coerceError } from './errors.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ml-rollback: ${coerceError(err).message}\n`);
    process.exit(1);
  },
);
