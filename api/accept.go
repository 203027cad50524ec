package api

import (
	"strconv"
	"strings"
)

// prefersHTML reports whether Accept header values rank HTML above JSON: a
// browser's "text/html,...,*/*;q=0.8" does, curl's "*/*", no header, and
// "application/json" do not. HTML counts only when named (text/html or
// application/xhtml+xml); JSON takes the quality of its most specific match
// (application/json, then application/*, then */*). A tie goes to JSON.
func prefersHTML(values []string) bool {
	htmlQ, jsonQ := -1.0, -1.0
	jsonSpec := -1 // wildcards in the range jsonQ came from (fewer: more specific)
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, q := mediaRange(part)
			switch mt {
			case "text/html", "application/xhtml+xml":
				htmlQ = max(htmlQ, q)
			case "application/json", "application/*", "*/*":
				spec := strings.Count(mt, "*") // */* 2, application/* 1, application/json 0
				if jsonSpec < 0 || spec < jsonSpec || spec == jsonSpec && q > jsonQ {
					jsonSpec, jsonQ = spec, q
				}
			}
		}
	}
	return htmlQ > 0 && htmlQ > jsonQ
}

// mediaRange splits one Accept element into its lower-cased media range and
// quality (1 unless a valid q parameter says otherwise).
func mediaRange(part string) (string, float64) {
	params := strings.Split(part, ";")
	mt := strings.ToLower(strings.TrimSpace(params[0]))
	q := 1.0
	for _, p := range params[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
			q = f
		} else {
			q = 0
		}
	}
	return mt, q
}
