import type { FastifyInstance } from "fastify";
import { ColmenaError } from "../../runtime/index.js";

/**
 * JSON bodies must be valid UTF-8. Fastify's own parser decodes leniently
 * (bad bytes become U+FFFD and the request goes through with altered text);
 * this one reads bytes, decodes strictly (INVALID on a bad sequence), then
 * hands the text to fastify's parser, which keeps its guard against
 * `__proto__` / `constructor` poisoning. The body limit applies as before.
 * Fastify's text/plain parser goes: the routes take JSON only, so any other
 * media type is 415 (with text/plain parsed, such a body reached the schema
 * as a string and was refused 400).
 */
export function strictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser("text/plain");
  const parseJson = app.getDefaultJsonParser("error", "error");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new ColmenaError("INVALID", "the body is not valid UTF-8"), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
