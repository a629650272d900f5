// Joule test guest: every request gets 200, text/plain, "hello from js".
// Implements wasi:http/incoming-handler by hand (no fetch-event) and never
// makes an outbound call.
import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from 'wasi:http/types@0.2.12';

const utf8 = new TextEncoder();
const BODY = utf8.encode('hello from js');
const CONTENT_TYPE = utf8.encode('text/plain');

export const incomingHandler = {
  handle(_request, responseOut) {
    const headers = Fields.fromList([['content-type', CONTENT_TYPE]]);
    const response = new OutgoingResponse(headers);
    response.setStatusCode(200);
    const body = response.body();
    // Give the host the response head first, then stream the body.
    ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
    const stream = body.write();
    stream.blockingWriteAndFlush(BODY);
    stream[Symbol.dispose](); // the stream must be dropped before finish
    OutgoingBody.finish(body, undefined);
  },
};
