/**
 * What other folders use of the evaluation: the corpus reader, the question
 * set and `colmena up` driven through its HTTP API (the node benchmark runs
 * Colmena the way the evaluation does) and the CPU time of a process tree
 * (how both measure cost on a shared machine).
 */
export { ColmenaServer, type EvalDocument } from "./colmena-server.js";
export { CorpusMissing, DEFAULT_CORPUS, readCorpus } from "./corpus.js";
export { treeCpuMs } from "./process-cpu.js";
export { loadQuestions, type Question } from "./questions.js";
