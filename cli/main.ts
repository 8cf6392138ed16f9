#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { isTypedError } from "../runtime/index.js";
import { buildProgram } from "./program.js";
import { StartupMistake } from "./startup-check.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

buildProgram(version).parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`colmena: ${isTypedError(err) ? `${err.code}: ` : ""}${message}\n`);
  // A mistake in the config or its model files (exit 2) is not a crash for a process supervisor to retry.
  process.exit(err instanceof StartupMistake ? 2 : 1);
});
