/**
 * The caller's end of a streamed reply: an async iterable of chunks that
 * holds at most the stream's credit of them. Breaking out of a for-await
 * loop, or calling cancel(), reaches the producer and stops it.
 */
export interface ActorStream<T> extends AsyncIterable<T> {
  cancel(): void;
}
