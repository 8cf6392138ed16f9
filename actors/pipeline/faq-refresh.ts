import type { ActorContext } from "../../runtime/index.js";
import { readFaq } from "../cache/index.js";
import type { IndexVersion } from "./index-version.js";
import type { RagPipeline } from "./pipeline.js";

/** How often the index version is compared with the one the FAQ was answered at. */
const FAQ_CHECK_MS = 5_000;

/**
 * The FAQ's answers follow the index: cached answers are keyed by the index
 * version, so after an ingest the FAQ's questions would miss until someone
 * asked them. Every FAQ_CHECK_MS the version is compared with the one the
 * FAQ was answered at; once it has changed and then held still for a whole
 * check (an ingest in progress moves it constantly), the FAQ is answered
 * again.
 */
export class FaqRefresh {
  #questions: string[] = [];
  #answeredAt = -1;
  #seen = -1;
  #timer: ReturnType<ActorContext["clock"]["setTimeout"]> | undefined;
  #stopped = false;

  constructor(
    private readonly ctx: Pick<ActorContext, "actors" | "clock" | "log">,
    private readonly pipeline: Pick<RagPipeline, "query">,
    private readonly version: IndexVersion,
    private readonly file: string | undefined,
  ) {}

  /** Answers the FAQ once and starts following the index; resolves with the number of questions. */
  async start(): Promise<number> {
    if (this.file === undefined) return 0;
    this.#questions = await readFaq(this.file);
    if (this.#questions.length === 0) return 0;
    await this.#answer();
    this.#schedule();
    return this.#questions.length;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.ctx.clock.clearTimeout(this.#timer);
  }

  async #answer(): Promise<void> {
    const at = await this.version.current();
    // Outside any request: the node's refs, with their default deadline for each step.
    for (const question of this.#questions) {
      if (this.#stopped) return;
      await this.pipeline.query({ question }, { refs: this.ctx.actors, deadline: Infinity, clock: this.ctx.clock });
    }
    this.#answeredAt = this.#seen = at;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.ctx.clock.setTimeout(() => void this.#check().finally(() => this.#schedule()), FAQ_CHECK_MS);
  }

  async #check(): Promise<void> {
    try {
      const now = await this.version.current();
      const settled = now === this.#seen;
      this.#seen = now;
      if (now !== this.#answeredAt && settled) {
        await this.#answer();
        this.ctx.log.info({ faq: this.#questions.length, indexVersion: now }, "FAQ answered again for the new index version");
      }
    } catch (err) {
      this.ctx.log.warn({ err }, "answering the FAQ again failed; trying at the next check");
    }
  }
}
