import { z } from "zod";

/**
 * The rule for text a caller sends that reaches chunks, prompts and logs
 * (questions, chat messages, document texts): no NUL and no other control
 * character but tab, line feed and carriage return (C0 and DEL). Such a
 * request is refused as INVALID naming the field rather than silently
 * altered, so what is stored is what was sent; `colmena ingest` replaces
 * them with spaces in the files it reads (form feeds in text exports).
 * One regular expression, so HTTP's JSON Schema and NATS's zod check the same.
 */
const FORBIDDEN = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F";

export const CONTROL_CHARACTERS = new RegExp(`[${FORBIDDEN}]`, "g");

export const cleanText = () =>
  z.string().regex(new RegExp(`^[^${FORBIDDEN}]*$`), "must not hold NUL or control characters (tab, line feed and carriage return are allowed)");
