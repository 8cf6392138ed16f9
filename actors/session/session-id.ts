import { z } from "zod";

/** The longest session id (characters). */
export const MAX_SESSION_ID_LENGTH = 128;

/**
 * A session id is the session actor's key, so a single subject token (the
 * runtime's actor-key rules) and at most MAX_SESSION_ID_LENGTH characters:
 * the one rule for it at the edge, in the pipeline's messages, everywhere.
 */
export const SessionIdSchema = z
  .string()
  .regex(new RegExp(`^[A-Za-z0-9_\\-=]{1,${MAX_SESSION_ID_LENGTH}}$`), `letters, digits and _-= (at most ${MAX_SESSION_ID_LENGTH})`)
  .describe(`letters, digits and _-= (at most ${MAX_SESSION_ID_LENGTH})`);
