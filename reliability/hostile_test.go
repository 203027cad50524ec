package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// hostileCase is one bad request of the catalogue and what the server must
// answer.
type hostileCase struct {
	name string
	send func(net.Conn) error
	// status is the expected status; 0 means the server must close the
	// connection without answering.
	status      int
	code, field string // the JSON error's code and field (status >= 400, not plain)
	plain       bool   // answered by net/http itself (text/plain, no JSON error shape)
	orClosed    bool   // a closed connection is also acceptable (the server cut a slow client off)
	slow        bool   // takes up to the server's read timeouts; run in parallel
	limit       time.Duration
}

const (
	predict = "/predict"
	batch   = "/predict/batch"
	tfGold  = "/v1/models/gold:predict"
)

func jsonPost(path, body string, headers ...string) func(net.Conn) error {
	return writeAll(request("POST", path, []byte(body), append([]string{"Content-Type: application/json"}, headers...)...))
}

// chunked encodes body in chunks of n bytes.
func chunked(body []byte, n int) []byte {
	var b bytes.Buffer
	for len(body) > 0 {
		k := min(n, len(body))
		fmt.Fprintf(&b, "%x\r\n", k)
		b.Write(body[:k])
		b.WriteString("\r\n")
		body = body[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// trickle writes head at once, then tail one byte every gap until the
// connection fails or stop closes.
func trickle(head, tail []byte, gap time.Duration) func(net.Conn) error {
	return func(c net.Conn) error {
		if _, err := c.Write(head); err != nil {
			return err
		}
		for i := range tail {
			time.Sleep(gap)
			if _, err := c.Write(tail[i : i+1]); err != nil {
				return err
			}
		}
		return nil
	}
}

// halfClose writes b and then closes the write side.
func halfClose(b []byte) func(net.Conn) error {
	return func(c net.Conn) error {
		if _, err := c.Write(b); err != nil {
			return err
		}
		return c.(*net.TCPConn).CloseWrite()
	}
}

func catalogue() []hostileCase {
	w := window(0)
	ok := `{"historical_prices":` + w + `}`
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	n60 := func(first string) string { return `{"historical_prices":[` + first + rep(",1900", 59) + `]}` }
	big := `{"historical_prices":[` + rep("1,", 1_000_000-1) + `1]}` // 10^6 elements, 2 MB
	bigBatch := `{"instances":[` + rep("[],", 1_000_000-1) + `[]]}`
	var thousand1 strings.Builder
	thousand1.WriteString(`{"instances":[`)
	for i := range 1001 {
		if i > 0 {
			thousand1.WriteByte(',')
		}
		thousand1.WriteString(w)
	}
	thousand1.WriteString(`]}`)
	manyHeaders := make([]string, 0, 1200)
	for i := range 1200 {
		manyHeaders = append(manyHeaders, fmt.Sprintf("X-Flood-%d: %s", i, rep("a", 60)))
	}
	fewHeaders := make([]string, 0, 200)
	for i := range 200 {
		fewHeaders = append(fewHeaders, fmt.Sprintf("X-Many-%d: %s", i, rep("b", 40)))
	}
	const sec = time.Second
	return []hostileCase{
		// Truncated and malformed JSON.
		{name: "truncated array", send: jsonPost(predict, `{"historical_prices":[1,2`), status: 400, code: "bad_json"},
		{name: "truncated number", send: jsonPost(predict, `{"historical_prices":[1900.`), status: 400, code: "bad_json"},
		{name: "truncated key", send: jsonPost(predict, `{"histor`), status: 400, code: "bad_json"},
		{name: "lone brace", send: jsonPost(predict, `{`), status: 400, code: "bad_json"},
		{name: "empty body", send: jsonPost(predict, ``), status: 400, code: "bad_json"},
		{name: "whitespace body", send: jsonPost(predict, " \n\t "), status: 400, code: "bad_json"},
		{name: "trailing garbage", send: jsonPost(predict, ok+` {}`), status: 400, code: "bad_json"},
		{name: "two objects", send: jsonPost(predict, ok+ok), status: 400, code: "bad_json"},
		{name: "byte order mark", send: jsonPost(predict, "\ufeff"+ok), status: 400, code: "bad_json"},
		{name: "single quotes", send: jsonPost(predict, `{'historical_prices':[1]}`), status: 400, code: "bad_json"},
		{name: "leading zeros", send: jsonPost(predict, n60("01900")), status: 400, code: "bad_json"},
		{name: "hex number", send: jsonPost(predict, n60("0x76c")), status: 400, code: "bad_json"},
		{name: "NaN literal", send: jsonPost(predict, n60("NaN")), status: 400, code: "bad_json"},
		{name: "Infinity literal", send: jsonPost(predict, n60("Infinity")), status: 400, code: "bad_json"},
		{name: "-Infinity literal", send: jsonPost(predict, n60("-Infinity")), status: 400, code: "bad_json"},
		{name: "deeply nested arrays (unbalanced)", send: jsonPost(predict, `{"historical_prices":`+rep("[", 200_000)), status: 400, code: "bad_json"},
		{name: "deeply nested arrays (balanced, over the depth limit)", send: jsonPost(predict, `{"x":`+rep("[", 20_000)+rep("]", 20_000)+`,"historical_prices":`+w+`}`), status: 400, code: "bad_json"},
		{name: "deeply nested objects", send: jsonPost(predict, rep(`{"a":`, 50_000)+"1"+rep("}", 50_000)), status: 400, code: "bad_json"},
		{name: "nested prices", send: jsonPost(predict, `{"historical_prices":[[[1900]]]}`), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		// Wrong types.
		{name: "body is an array", send: jsonPost(predict, `[`+w+`]`), status: 400, code: "bad_json"},
		{name: "body is a string", send: jsonPost(predict, `"1900"`), status: 400, code: "bad_json"},
		{name: "body is a number", send: jsonPost(predict, `1900`), status: 400, code: "bad_json"},
		{name: "body is null", send: jsonPost(predict, `null`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "prices is a string", send: jsonPost(predict, `{"historical_prices":"1900,1901"}`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "prices is an object", send: jsonPost(predict, `{"historical_prices":{"0":1900}}`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "prices is a number", send: jsonPost(predict, `{"historical_prices":1900}`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "string for a number", send: jsonPost(predict, n60(`"1900"`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: `"NaN" string`, send: jsonPost(predict, n60(`"NaN"`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: `"Infinity" string`, send: jsonPost(predict, n60(`"Infinity"`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "boolean for a number", send: jsonPost(predict, n60(`true`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "null value", send: jsonPost(predict, n60(`null`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "1e400", send: jsonPost(predict, n60(`1e400`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "-1e400", send: jsonPost(predict, n60(`-1e400`)), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "100000-digit number", send: jsonPost(predict, n60(rep("9", 100_000))), status: 422, code: "invalid_input", field: "historical_prices[0]"},
		{name: "absurd 1e13", send: jsonPost(predict, `{"historical_prices":[`+rep("1900,", 59)+`1e13]}`), status: 422, code: "invalid_input", field: "historical_prices[59]"},
		{name: "horizon 0", send: jsonPost(predict, `{"horizon":0,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "horizon"},
		{name: "horizon 31", send: jsonPost(predict, `{"horizon":31,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "horizon"},
		{name: "horizon -1", send: jsonPost(predict, `{"horizon":-1,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "horizon"},
		{name: "horizon string", send: jsonPost(predict, `{"horizon":"5","historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "horizon"},
		{name: "horizon 1e20", send: jsonPost(predict, `{"horizon":1e20,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "horizon"},
		{name: "model_version 0", send: jsonPost(predict, `{"model_version":0,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "model_version"},
		{name: "model_version not a version nor a label", send: jsonPost(predict, `{"model_version":"latest","historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "model_version"},
		{name: "model_version in the query string, not served", send: jsonPost(predict+"?model_version=2.0", `{"historical_prices":`+w+`}`), status: 404, code: "not_found", field: "model_version"},
		{name: "model is a number", send: jsonPost(predict, `{"model":7,"historical_prices":`+w+`}`), status: 422, code: "invalid_input", field: "model"},
		// Empty and huge arrays.
		{name: "empty prices", send: jsonPost(predict, `{"historical_prices":[]}`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "59 prices", send: jsonPost(predict, `{"historical_prices":[`+rep("1900,", 58)+`1900]}`), status: 422, code: "invalid_input", field: "historical_prices"},
		{name: "10^6 prices (2 MB)", send: jsonPost(predict, big), status: 413, code: "body_too_large", orClosed: true},
		{name: "10^6 empty windows (3 MB)", send: jsonPost(batch, bigBatch), status: 413, code: "body_too_large", orClosed: true},
		{name: "batch of 1001", send: jsonPost(batch, thousand1.String()), status: 422, code: "invalid_input", field: "instances"},
		{name: "batch empty", send: jsonPost(batch, `{"instances":[]}`), status: 422, code: "invalid_input", field: "instances"},
		{name: "batch empty window", send: jsonPost(batch, `{"instances":[[]]}`), status: 422, code: "invalid_input", field: "instances[0]"},
		{name: "batch null window value", send: jsonPost(batch, `{"instances":[[null`+rep(",1", 59)+`]]}`), status: 422, code: "invalid_input", field: "instances[0][0]"},
		{name: "batch is an object", send: jsonPost(batch, `{"instances":{"0":`+w+`}}`), status: 422, code: "invalid_input", field: "instances"},
		{name: "tf 1001 instances", send: jsonPost(tfGold, thousand1.String()), status: 422, code: "invalid_input", field: "instances"},
		{name: "tf wrong rank", send: jsonPost(tfGold, `{"instances":[[[[1]]]]}`), status: 422, code: "invalid_input", field: "instances[0][0][0]"},
		{name: "tf short window", send: jsonPost(tfGold, `{"instances":[[1,2,3]]}`), status: 422, code: "invalid_input", field: "instances[0]"},
		{name: "tf missing instances", send: jsonPost(tfGold, `{"signature_name":"x"}`), status: 422, code: "invalid_input", field: "instances"},
		// Huge bodies with and without Content-Length.
		{name: "Content-Length 2 MB, 64 KiB sent", send: writeAll(request("POST", predict, append([]byte(`{"historical_prices":[`), bytes.Repeat([]byte("1,"), 32<<10)...),
			"Content-Type: application/json", "Content-Length: 2097152")), status: 413, code: "body_too_large"},
		{name: "Content-Length 10^15", send: writeAll(request("POST", predict, []byte(`{}`), "Content-Type: application/json", "Content-Length: 1000000000000000")),
			status: 413, code: "body_too_large"},
		{name: "Expect 100-continue over the limit", send: writeAll(request("POST", predict, []byte{}, "Content-Type: application/json",
			"Content-Length: 5000000", "Expect: 100-continue")), status: 413, code: "body_too_large"},
		{name: "chunked over the limit", send: writeAll(request("POST", predict, chunked([]byte(big), 64<<10), "Content-Type: application/json",
			"Transfer-Encoding: chunked")), status: 413, code: "body_too_large", orClosed: true},
		{name: "chunked, small", send: writeAll(request("POST", predict, chunked([]byte(ok), 7), "Content-Type: application/json",
			"Transfer-Encoding: chunked")), status: 200},
		{name: "chunked, bad chunk size", send: writeAll(request("POST", predict, []byte("zz\r\nabc\r\n0\r\n\r\n"), "Content-Type: application/json",
			"Transfer-Encoding: chunked")), status: 400, code: "bad_request"},
		{name: "chunked, truncated then half-closed", send: halfClose(request("POST", predict, []byte("40\r\n{\"historical_prices\":[1,2"),
			"Content-Type: application/json", "Transfer-Encoding: chunked")), status: 400, code: "bad_request"},
		{name: "Content-Length over the bytes sent, half-closed", send: halfClose(request("POST", predict, []byte(`{"historical_prices":[1`),
			"Content-Type: application/json", "Content-Length: 500")), status: 400, code: "bad_request"},
		{name: "Content-Length not a number", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: application/json", "Content-Length: 12abc")),
			status: 400, plain: true},
		{name: "two Content-Lengths", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: application/json",
			fmt.Sprintf("Content-Length: %d", len(ok)), "Content-Length: 3")), status: 400, plain: true},
		{name: "unknown Transfer-Encoding", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: application/json",
			"Transfer-Encoding: gzip")), status: 501, plain: true},
		// Slow clients: cut off by the read timeouts (1 s header, 2 s request).
		{name: "slowloris headers", send: trickle([]byte("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"), []byte(rep("X-Slow: 1\r\n", 100)), 50*time.Millisecond),
			// net/http closes silently when the header timeout strikes between reads, and answers a
			// plain 400 when it strikes inside one (seen once on a loaded machine): both cut it off.
			status: 400, plain: true, orClosed: true, slow: true, limit: 4 * sec},
		{name: "slow request line", send: trickle(nil, []byte("POST /predict HTTP/1.1\r\n"), 200*time.Millisecond), status: 400, plain: true, orClosed: true, slow: true, limit: 4 * sec},
		{name: "idle connection", send: func(net.Conn) error { return nil }, status: 0, slow: true, limit: 4 * sec},
		{name: "slow body", send: trickle(request("POST", predict, nil, "Content-Type: application/json", "Content-Length: 2000"), []byte(rep(" ", 2000)), 100*time.Millisecond),
			status: 400, code: "bad_request", orClosed: true, slow: true, limit: 5 * sec},
		// Wrong methods and content types.
		{name: "GET /predict", send: writeAll(request("GET", predict, nil)), status: 405, code: "method_not_allowed"},
		{name: "PUT /predict", send: writeAll(request("PUT", predict, []byte(ok), "Content-Type: application/json")), status: 405, code: "method_not_allowed"},
		{name: "DELETE /predict/batch", send: writeAll(request("DELETE", batch, nil)), status: 405, code: "method_not_allowed"},
		{name: "PATCH tf predict", send: writeAll(request("PATCH", tfGold, []byte(`{}`), "Content-Type: application/json")), status: 405, code: "method_not_allowed"},
		{name: "POST /health", send: writeAll(request("POST", "/health", []byte(`{}`))), status: 405, code: "method_not_allowed"},
		{name: "lower-case method", send: writeAll(request("post", predict, []byte(ok), "Content-Type: application/json")), status: 405, code: "method_not_allowed"},
		{name: "text/plain", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: text/plain")), status: 415, code: "unsupported_media_type"},
		{name: "multipart/form-data", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: multipart/form-data; boundary=x")), status: 415, code: "unsupported_media_type"},
		{name: "malformed content type", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: application/json; charset")), status: 415, code: "unsupported_media_type"},
		{name: "application/xml", send: writeAll(request("POST", batch, []byte(`<a/>`), "Content-Type: application/xml")), status: 415, code: "unsupported_media_type"},
		// Unknown fields and duplicate keys: accepted like the seed API
		// (pydantic ignores extra fields; the last duplicate wins, as in Python).
		{name: "unknown field", send: jsonPost(predict, `{"historical_prices":`+w+`,"foo":{"bar":[1,2]}}`), status: 200},
		{name: "duplicate key, good one last", send: jsonPost(predict, `{"historical_prices":[1],"historical_prices":`+w+`}`), status: 200},
		{name: "duplicate key, bad one last", send: jsonPost(predict, `{"historical_prices":`+w+`,"historical_prices":[1]}`), status: 422, code: "invalid_input", field: "historical_prices"},
		// Invalid UTF-8.
		{name: "invalid UTF-8 in a string", send: jsonPost(predict, "{\"model\":\"\xff\xfe\",\"historical_prices\":"+w+"}"), status: 404, code: "not_found", field: "model"},
		{name: "invalid UTF-8 outside strings", send: jsonPost(predict, "{\xff\"historical_prices\":"+w+"}"), status: 400, code: "bad_json"},
		{name: "lone surrogate escape", send: jsonPost(predict, `{"model":"\ud800","historical_prices":`+w+`}`), status: 404, code: "not_found", field: "model"},
		{name: "NUL in a key", send: jsonPost(predict, "{\"historical_prices\u0000\":"+w+"}"), status: 400, code: "bad_json"},
		// Path traversal in model names.
		{name: "model ../../etc/passwd", send: jsonPost(predict, `{"model":"../../etc/passwd","historical_prices":`+w+`}`), status: 404, code: "not_found", field: "model"},
		{name: "model gold/../gold", send: jsonPost(predict, `{"model":"gold/../gold","historical_prices":`+w+`}`), status: 404, code: "not_found", field: "model"},
		{name: "model %2e%2e", send: jsonPost(batch, `{"model":"%2e%2e/gold","instances":[`+w+`]}`), status: 404, code: "not_found", field: "model"},
		{name: "tf path ../", send: jsonPost("/v1/models/../../etc/passwd:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found"},
		{name: "tf path %2e%2e", send: jsonPost("/v1/models/%2e%2e/%2e%2e/etc/passwd:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found"},
		{name: "tf path encoded slashes", send: jsonPost("/v1/models/..%2f..%2fmodels%2fgold:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found"},
		{name: "tf path gold%2f..", send: jsonPost("/v1/models/gold%2f..%2f..%2fx:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found"},
		{name: "tf metadata traversal", send: writeAll(request("GET", "/v1/models/..%2F..%2Fetc/metadata", nil)), status: 404, code: "not_found"},
		{name: "tf version 0", send: jsonPost("/v1/models/gold/versions/0:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found", field: "version"},
		{name: "tf version 1e3", send: jsonPost("/v1/models/gold/versions/1e3:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found", field: "version"},
		{name: "tf version unknown", send: jsonPost("/v1/models/gold/versions/999:predict", `{"instances":[`+w+`]}`), status: 404, code: "not_found", field: "version"},
		{name: "tf unknown verb", send: jsonPost("/v1/models/gold:classify", `{"instances":[`+w+`]}`), status: 404, code: "not_found"},
		{name: "tf reload without admin key configured", send: jsonPost("/v1/models/gold:reload", `{}`), status: 403, code: "forbidden"},
		{name: "no such route", send: writeAll(request("GET", "/etc/passwd", nil)), status: 404, code: "not_found"},
		{name: "dot-dot route", send: writeAll(request("GET", "/../../etc/passwd", nil)), status: 404, code: "not_found"},
		// Header floods and bad request heads.
		{name: "1200 headers (84 KB)", send: writeAll(request("POST", predict, []byte(ok), append([]string{"Content-Type: application/json"}, manyHeaders...)...)), status: 431, plain: true},
		{name: "one 100 KB header", send: writeAll(request("POST", predict, []byte(ok), "Content-Type: application/json", "X-Big: "+rep("x", 100<<10))), status: 431, plain: true},
		{name: "100 KB URL", send: writeAll(request("GET", "/"+rep("a", 100<<10), nil)), status: 431, plain: true},
		{name: "200 headers under the limit", send: writeAll(request("POST", predict, []byte(ok), append([]string{"Content-Type: application/json"}, fewHeaders...)...)), status: 200},
		{name: "10 KB X-Request-ID is ignored", send: jsonPost(predict, ok, "X-Request-ID: "+rep("r", 10<<10)), status: 200},
		{name: "garbage request line", send: writeAll([]byte("GARBAGE\r\n\r\n")), status: 400, plain: true},
		{name: "header without colon", send: writeAll([]byte("POST /predict HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n")), status: 400, plain: true},
		{name: "NUL in the path", send: writeAll([]byte("GET /health\x00 HTTP/1.1\r\nHost: x\r\n\r\n")), status: 400, plain: true},
		{name: "HTTP/1.1 without Host", send: writeAll([]byte("GET /health HTTP/1.1\r\n\r\n")), status: 400, plain: true},
		{name: "HTTP/9.9", send: writeAll([]byte("GET /health HTTP/9.9\r\nHost: x\r\n\r\n")), status: 505, plain: true},
	}
}

// TestHostileCatalogue sends every catalogue request to a real server over
// TCP, checks each answer (status, JSON error shape, code and field, or a
// closed connection) and its time, then checks that the server still gives
// the same prediction as before, logged no 5xx and did not panic.
func TestHostileCatalogue(t *testing.T) {
	s := startServer(t, nil)
	c := newClient()
	good := `{"historical_prices":` + window(0) + `}`
	st, before, _ := do(t, c, "POST", s.url(predict), good)
	if st != 200 || before["predicted_price"] == nil {
		t.Fatalf("before: %d %v", st, before)
	}
	cases := catalogue()
	if len(cases) < 60 {
		t.Fatalf("catalogue has %d cases, want >= 60", len(cases))
	}
	t.Logf("catalogue: %d cases", len(cases))
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if tc.slow {
					t.Parallel()
				}
				limit := tc.limit
				if limit == 0 {
					limit = 10 * time.Second
				}
				r := exchange(s.addr, limit+2*time.Second, tc.send)
				checkCase(t, tc, r, limit)
			})
		}
	})

	// Still alive and still right.
	st, after, _ := do(t, c, "POST", s.url(predict), good)
	if st != 200 || after["predicted_price"] != before["predicted_price"] || after["model_version"] != before["model_version"] {
		t.Fatalf("after the catalogue: %d %v, before %v", st, after, before)
	}
	if st, _, _ := do(t, c, "GET", s.url("/ready"), ""); st != 200 {
		t.Fatalf("/ready after the catalogue: %d", st)
	}
	for _, l := range s.log.lines("request") {
		if code, _ := l["status"].(float64); code >= 500 {
			t.Errorf("logged a %v: %v", code, l)
		}
	}
	if p := s.log.lines("panic"); len(p) > 0 {
		t.Errorf("server panicked: %v", p)
	}
}

func checkCase(t *testing.T, tc hostileCase, r rawResult, limit time.Duration) {
	t.Helper()
	if r.elapsed > limit {
		t.Errorf("took %v, limit %v", r.elapsed, limit)
	}
	if r.closed {
		if tc.status == 0 || tc.orClosed {
			t.Logf("closed after %v (%v)", r.elapsed.Round(time.Millisecond), r.readErr)
			return
		}
		t.Fatalf("connection closed without a response (%v), want %d", r.readErr, tc.status)
	}
	if tc.status == 0 {
		t.Fatalf("got %d %.200s, want the connection closed", r.status, r.body)
	}
	t.Logf("%d after %v", r.status, r.elapsed.Round(time.Millisecond))
	if r.status != tc.status {
		t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
	}
	if r.status >= 500 && !tc.plain {
		t.Fatalf("5xx from the application: %.300s", r.body)
	}
	if tc.plain {
		return
	}
	if r.status == 200 {
		var ok struct {
			PredictedPrice *float64 `json:"predicted_price"`
		}
		if err := json.Unmarshal(r.body, &ok); err != nil || ok.PredictedPrice == nil {
			t.Fatalf("200 without a prediction: %.300s", r.body)
		}
		return
	}
	var e struct {
		Error *struct {
			Code, Message, Field string
			RequestID            string `json:"request_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil {
		t.Fatalf("status %d without the JSON error shape: %.300s", r.status, r.body)
	}
	if e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" || e.Error.RequestID == "" {
		t.Fatalf("error %+v, want code %q field %q", *e.Error, tc.code, tc.field)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestAPIKeys: with API keys and an admin key configured, every route but
// /health and /ready answers 401 to no key, a wrong key, a key in the query
// string or a key of the wrong scheme; the right key gets through; no key
// ever appears in the log.
func TestAPIKeys(t *testing.T) {
	const key1, key2, admin = "k1-Secret-0123456789abcdef", "k2-Secret-fedcba9876543210", "admin-Secret-5555"
	s := startServer(t, []string{"SEQCAST_API_KEYS=" + key1 + "," + key2, "SEQCAST_ADMIN_KEY=" + admin}, "--log-level", "debug")
	c := newClient()
	w := window(0)
	routes := []struct{ method, path, body string }{
		{"POST", predict, `{"historical_prices":` + w + `}`},
		{"POST", batch, `{"instances":[` + w + `]}`},
		{"POST", tfGold, `{"instances":[` + w + `]}`},
		{"POST", "/v1/models/gold:reload", `{}`},
		{"GET", "/v1/models/gold", ""},
		{"GET", "/v1/models/gold/metadata", ""},
		{"GET", "/v1/models/gold/versions/1", ""},
		{"GET", "/metrics", ""},
		{"GET", "/openapi.json", ""},
		{"GET", "/docs", ""},
		{"GET", "/", ""},
		{"GET", "/nope", ""},
		{"GET", predict, ""},
	}
	bad := [][]string{
		nil,
		{"X-API-Key", "wrong"},
		{"X-API-Key", key1[:len(key1)-1]},
		{"X-API-Key", key1 + "x"},
		{"X-API-Key", strings.ToUpper(key1)},
		{"Authorization", "Bearer wrong"},
		{"Authorization", "Basic " + key1},
		{"Authorization", key1},
		{"X-API-Key", ""},
	}
	for _, r := range routes {
		for _, h := range bad {
			st, body, hdr := do(t, c, r.method, s.url(r.path), r.body, h...)
			e, _ := body["error"].(map[string]any)
			if st != 401 || e["code"] != "unauthorized" || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d %v", r.method, r.path, h, st, body)
			}
		}
		// The key in the query string is not a credential.
		if st, _, _ := do(t, c, r.method, s.url(r.path+"?api_key="+key1), r.body); st != 401 {
			t.Errorf("%s %s?api_key=: %d", r.method, r.path, st)
		}
	}
	for _, p := range []string{"/health", "/ready"} {
		if st, _, _ := do(t, c, "GET", s.url(p), ""); st != 200 {
			t.Errorf("GET %s without a key: %d", p, st)
		}
	}
	for _, h := range [][]string{{"X-API-Key", key1}, {"X-API-Key", key2}, {"Authorization", "Bearer " + key2}, {"Authorization", "bearer " + key1}} {
		if st, body, _ := do(t, c, "POST", s.url(predict), routes[0].body, h...); st != 200 {
			t.Errorf("with %s: %d %v", h[0], st, body)
		}
	}
	// An API key is not an admin key, and vice versa for reloads.
	if st, _, _ := do(t, c, "POST", s.url("/v1/models/gold:reload"), `{}`, "X-API-Key", key1); st != 401 {
		t.Errorf("reload with an API key only: %d", st)
	}
	if st, body, _ := do(t, c, "POST", s.url("/v1/models/gold:reload"), `{}`, "X-API-Key", key1, "X-Admin-Key", admin); st != 200 {
		t.Errorf("reload with both keys: %d %v", st, body)
	}
	s.stop()
	log := s.log.String()
	for _, k := range []string{key1, key2, admin, key1[:12], admin[:12]} {
		if strings.Contains(log, k) {
			t.Errorf("the log contains a key (%q)", k)
		}
	}
	if n := len(s.log.lines("request")); n < len(routes)*len(bad) {
		t.Errorf("only %d request lines logged", n)
	}
}

// TestBadDefaultModel: a server whose only model is broken never becomes
// ready and exits with an error naming the broken file.
func TestBadDefaultModel(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"truncated weight", func(dir string) error {
			p := filepath.Join(dir, "weights", "003.npy")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, b[:len(b)-10], 0o644)
		}, "003.npy"},
		{"missing weight", func(dir string) error { return os.Remove(filepath.Join(dir, "weights", "017.npy")) }, "017.npy"},
		{"missing model.json", func(dir string) error { return os.Remove(filepath.Join(dir, "model.json")) }, "model.json"},
		{"garbage scaler.json", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "scaler.json"), []byte(`{"format":"seqcast-scaler/1","window":60,"input":{"kind":"bogus"}}`), 0o644)
		}, "scaler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			copyGold(t, dir)
			if err := tt.break_(dir); err != nil {
				t.Fatal(err)
			}
			s := launch(t, nil, "--model", dir)
			code := s.waitExit(30 * time.Second)
			if code != 1 {
				t.Fatalf("exit code %d, want 1:\n%s", code, s.log)
			}
			if len(s.log.lines("ready")) > 0 {
				t.Fatalf("became ready with a broken model:\n%s", s.log)
			}
			if !strings.Contains(s.log.String(), tt.want) {
				t.Fatalf("the error does not name %s:\n%s", tt.want, s.log)
			}
		})
	}
}

// TestBadReloadKeepsServing: a models directory with a good version 1; a
// broken version 2 appears; SIGHUP and the admin reload route both fail, and
// version 1 keeps answering the same predictions, /ready stays 200.
func TestBadReloadKeepsServing(t *testing.T) {
	root := t.TempDir()
	copyGold(t, filepath.Join(root, "gold", "1"))
	const admin = "reload-admin-key"
	s := startServer(t, []string{"SEQCAST_ADMIN_KEY=" + admin}, "--models-dir", root, "--cache-ttl", "0")
	c := newClient()
	good := `{"historical_prices":` + window(5) + `}`
	st, before, _ := do(t, c, "POST", s.url(predict), good)
	if st != 200 || before["model_version"] != float64(1) {
		t.Fatalf("before: %d %v", st, before)
	}
	v2 := filepath.Join(root, "gold", "2")
	copyGold(t, v2)
	if err := os.WriteFile(filepath.Join(v2, "weights", "005.npy"), []byte("\x93NUMPY\x01\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		st, after, _ := do(t, c, "POST", s.url(predict), good)
		if st != 200 || after["predicted_price"] != before["predicted_price"] || after["model_version"] != float64(1) {
			t.Errorf("%s: %d %v, before %v", when, st, after, before)
		}
		if st, _, _ := do(t, c, "GET", s.url("/ready"), ""); st != 200 {
			t.Errorf("%s: /ready %d", when, st)
		}
	}
	st, body, _ := do(t, c, "POST", s.url("/v1/models/gold:reload"), `{}`, "X-Admin-Key", admin)
	e, _ := body["error"].(map[string]any)
	if msg, _ := e["message"].(string); st != 409 || e["code"] != "reload_failed" || !strings.Contains(msg, "005.npy") {
		t.Errorf("reload: %d %v", st, body)
	}
	check("after a failed reload")
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.log.lines("reload failed; still serving the previous models")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(s.log.lines("reload failed; still serving the previous models")) == 0 {
		t.Fatalf("no failed-reload log line after SIGHUP:\n%s", s.log)
	}
	check("after SIGHUP")
	st, status, _ := do(t, c, "GET", s.url("/v1/models/gold"), "")
	if last, _ := status["last_reload_error"].(string); st != 200 || !strings.Contains(last, "005.npy") {
		t.Errorf("status: %d %v", st, status)
	}
}

// TestMetricsCardinality: nothing a client sends (methods, paths, model
// names, versions) may create new Prometheus series without bound: 300
// requests with made-up methods, paths and model names leave the number of
// seqcast_http_requests_total series nearly unchanged.
func TestMetricsCardinality(t *testing.T) {
	s := startServer(t, nil)
	c := newClient()
	base := "http://" + s.addr
	count := func() int {
		resp, err := c.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		n := 0 // series, whatever their type
		for name, f := range fams {
			if strings.HasPrefix(name, "seqcast_") {
				n += len(f.GetMetric())
			}
		}
		return n
	}
	before := count()
	for i := range 100 {
		exchange(s.addr, 5*time.Second, writeAll(request(fmt.Sprintf("M%d", i), predict, nil)))
		exchange(s.addr, 5*time.Second, writeAll(request("GET", fmt.Sprintf("/x/%d", i), nil)))
		exchange(s.addr, 5*time.Second, writeAll(request("POST", fmt.Sprintf("/v1/models/m%d/versions/%d:predict", i, i+1),
			[]byte(`{"instances":[[1]]}`), "Content-Type: application/json")))
	}
	if after := count(); after > before+30 {
		t.Errorf("300 requests with made-up methods, paths and models grew the seqcast_* series from %d to %d", before, after)
	}
}
