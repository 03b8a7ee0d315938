// echo: answers with the request it was given, as JSON (the body decoded as UTF-8 text).

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const handler = {
  handle(req) {
    const echoed = {
      method: req.method,
      path: req.path,
      query: req.query,
      headers: req.headers,
      body: decoder.decode(req.body),
    };
    return {
      status: 200,
      headers: [['content-type', 'application/json']],
      body: encoder.encode(JSON.stringify(echoed)),
    };
  },
};
