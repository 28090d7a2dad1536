// Package httpstep is the http step kind of a suite: one HTTP request, the
// expectations its response must meet, and the values it extracts into
// variables for the steps after it.
//
// A step as written in a suite:
//
//	steps:
//	  - http:
//	      method: POST
//	      url: "{{.BaseURL}}/api/messages"
//	      bearer: "{{.Vars.token}}"
//	      json: {text: "hello"}
//	      expect: {status: [201], json: {"$.text": "hello"}, headers: {Content-Type: application/json}}
//	      extract: {message_id: {json: "$.id"}}
//
// The caller decodes a [Step] from YAML, renders its templates, and runs it
// with a [Client], one per run, so that cookies (a session) carry over from
// step to step:
//
//	c, err := httpstep.NewClient(httpstep.Options{CAFile: caFile})
//	...
//	defer c.Close()
//	out, err := c.Do(ctx, step)
//
// Errors read like a monitoring line: what was sent, what was expected and
// what was seen, e.g. "POST /api/messages: status 500, want 201". Only the
// path of the URL is named, never its host or query. Secrets the step knows
// of ([Step.Secrets]) and secrets given to [Client.AddSecrets] are masked in
// every error this package returns; quoted response snippets are short
// (at most 120 bytes) and valid UTF-8.
//
// Response bodies are read up to [Expect.MaxBodyBytes] (1 MiB by default) and
// never further. A larger body is an error only when an expectation or an
// extraction needs what lies beyond the cap.
//
// The package never prints and never exits.
package httpstep
