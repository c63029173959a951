/** A small Server-Sent Events reader over a fetch body (WHATWG event-stream parsing: fields, multi-line data, comments). */

export interface SseMessage {
  /** `event:` field; `message` when absent. */
  event: string;
  data: string;
  id?: string;
}

/** Yields each dispatched event of an event stream; comments (`: keepalive`) and `retry:` are skipped. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: RegExpExecArray | null;
      const lineEnd = /\r\n|\r|\n/g;
      let start = 0;
      // A trailing lone \r may be the first half of \r\n: keep it for the next chunk.
      while ((nl = lineEnd.exec(buffer)) && !(nl[0] === '\r' && nl.index === buffer.length - 1 && !done)) {
        const line = buffer.slice(start, nl.index);
        start = nl.index + nl[0].length;
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = v;
        else if (field === 'data') data.push(v);
        else if (field === 'id') id = v;
      }
      buffer = buffer.slice(start);
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
