#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { isTypedError } from "../runtime/index.js";
import { buildProgram } from "./program.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

buildProgram(version).parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`colmena: ${isTypedError(err) ? `${err.code}: ` : ""}${message}\n`);
  process.exit(1);
});
