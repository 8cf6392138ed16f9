#!/usr/bin/env node
import { loadtestCommand } from "./command.js";

/** `npm run loadtest -- <scenario> [options]`: the same command as `colmena loadtest`. */
loadtestCommand()
  .name("loadtest")
  .showHelpAfterError("(add --help for the options)")
  .parseAsync()
  .catch((err: unknown) => {
    process.stderr.write(`loadtest: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
