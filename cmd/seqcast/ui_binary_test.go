package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The forecast page tested as a person sees it: the real binary, the page in
// a real headless Chromium, driven through the DevTools protocol (CDP) over
// a WebSocket. The protocol is spoken by cdpConn below, a minimal client
// (no new dependency): the test types into the page and presses keys as a
// person would, reads the DOM back and takes screenshots at desk and phone
// widths. (--dump-dom or --screenshot alone could not type, press keys,
// wait for the forecast or resize.)

// chromiumBinary finds Debian's chromium (tools/prepare.sh installs it).
func chromiumBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found on PATH: run `make prepare` (tools/prepare.sh installs Debian's chromium)")
	return ""
}

// startChromium runs headless Chromium with a DevTools port and returns the
// WebSocket URL of its blank page.
func startChromium(t *testing.T) string {
	t.Helper()
	// The profile is removed by the cleanup below once every Chromium
	// process is gone (t.TempDir's removal could race its helpers' writes).
	profile, err := os.MkdirTemp("", "seqcast-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromiumBinary(t), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--user-data-dir="+profile, "--window-size=1280,900", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers in one group, ended with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // helpers that outlived the browser
		<-done
		for i := 0; ; i++ {
			if err := os.RemoveAll(profile); err == nil || i == 20 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	found := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if len(log.String()) < 1<<16 {
				log.WriteString(line + "\n")
			}
			if _, u, ok := strings.Cut(line, "DevTools listening on "); ok {
				found <- strings.TrimSpace(u)
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-found:
	case <-done:
		t.Fatalf("chromium exited at start")
	case <-time.After(60 * time.Second):
		t.Fatalf("chromium gave no DevTools URL in 60 s")
	}
	u, err := url.Parse(browserURL)
	if err != nil {
		t.Fatal(err)
	}
	var targets []struct{ Type, URL, WebSocketDebuggerURL string }
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + u.Host + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.WebSocketDebuggerURL != "" {
				return tg.WebSocketDebuggerURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target in chromium (%v): %+v", err, targets)
		}
	}
}

// cdpConn is a minimal Chrome DevTools protocol client over a WebSocket
// (RFC 6455: client frames masked, text messages, fragments reassembled;
// pings answered).
type cdpConn struct {
	c    net.Conn
	r    *bufio.Reader
	next int
}

func dialCDP(wsURL string) (*cdpConn, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, key)
	r := bufio.NewReaderSize(c, 1<<16)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	return &cdpConn{c: c, r: r}, nil
}

func (w *cdpConn) writeFrame(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	body := make([]byte, len(payload))
	for i, b := range payload {
		body[i] = b ^ mask[i%4]
	}
	_, err := w.c.Write(append(hdr, body...))
	return err
}

// readMessage returns the next whole text message.
func (w *cdpConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		fin, op, n := h[0]&0x80 != 0, h[0]&0x0f, uint64(h[1]&0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("websocket frame of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.r, payload); err != nil {
			return nil, err
		}
		switch op {
		case 0x8:
			return nil, errors.New("websocket closed by chromium")
		case 0x9:
			if err := w.writeFrame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// call sends one CDP command and waits for its answer (events in between
// are dropped).
func (w *cdpConn) call(method string, params any) (json.RawMessage, error) {
	w.next++
	id := w.next
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	_ = w.c.SetDeadline(time.Now().Add(60 * time.Second))
	if err := w.writeFrame(0x1, b); err != nil {
		return nil, err
	}
	for {
		m, err := w.readMessage()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		var r struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(m, &r) != nil || r.ID != id {
			continue
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	}
}

// page wraps a cdpConn with the few things the test does to the page.
type page struct {
	t *testing.T
	w *cdpConn
}

func (p page) do(method string, params any) json.RawMessage {
	p.t.Helper()
	r, err := p.w.call(method, params)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

// eval runs expr in the page (awaiting a promise) and decodes its value
// into out.
func (p page) eval(expr string, out any) {
	p.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	raw := p.do("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err := json.Unmarshal(raw, &r); err != nil {
		p.t.Fatal(err)
	}
	if e := r.ExceptionDetails; e != nil {
		p.t.Fatalf("evaluating %q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			p.t.Fatalf("evaluating %q: %v (%s)", expr, err, r.Result.Value)
		}
	}
}

// waitFor polls expr until it is true.
func (p page) waitFor(expr string, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var ok bool
		p.eval("(() => { try { return !!("+expr+") } catch (e) { return false } })()", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var html string
			p.eval("document.body.innerText", &html)
			p.t.Fatalf("page: %s still false after %v; the page says:\n%s", expr, within, html)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// focus focuses an element as a person's click would, then types text.
func (p page) typeInto(id, text string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.focus(); e.select && e.select(); })()`, id), nil)
	p.do("Input.insertText", map[string]any{"text": text})
	p.eval(fmt.Sprintf(`document.getElementById(%q).dispatchEvent(new Event("change"))`, id), nil)
}

// key presses and releases one key (Tab, Enter).
func (p page) key(name string, code int, text string) {
	p.t.Helper()
	down := map[string]any{"type": "keyDown", "key": name, "code": name, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
	if text != "" {
		down["text"] = text
	}
	p.do("Input.dispatchKeyEvent", down)
	p.do("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": name, "code": name, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code})
}

func (p page) activeID() string {
	p.t.Helper()
	var id string
	p.eval("document.activeElement ? document.activeElement.id : ''", &id)
	return id
}

// viewport sets the page's width (CSS pixels) and lets the layout settle.
func (p page) viewport(width, height int, mobile bool) {
	p.t.Helper()
	p.do("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
	time.Sleep(300 * time.Millisecond) // the page redraws its chart 100 ms after a resize
}

// screenshot writes the whole page as a PNG.
func (p page) screenshot(path string) {
	p.t.Helper()
	var m struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	if err := json.Unmarshal(p.do("Page.getLayoutMetrics", map[string]any{}), &m); err != nil {
		p.t.Fatal(err)
	}
	var shot struct{ Data string }
	raw := p.do("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSContentSize.Width, "height": m.CSSContentSize.Height, "scale": 1}})
	if err := json.Unmarshal(raw, &shot); err != nil {
		p.t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		p.t.Fatalf("screenshot: not a PNG (%v)", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s (%d bytes)", path, len(b))
}

// shownMatches reports whether a number as the page shows it equals v to
// the precision shown (two decimals from 100 up, six significant digits
// below).
func shownMatches(shown string, v float64) bool {
	x, err := strconv.ParseFloat(shown, 64)
	return err == nil && math.Abs(x-v) <= math.Max(0.005, 5e-6*math.Abs(v))+1e-9
}

// TestForecastPageInChromium: GET /ui and its files need no API key; in
// Chromium a person types the key, a series and a horizon of 5, presses
// Enter on the Forecast button (reached with Tab), and sees the history,
// five forecast points and the band on the chart and the API's numbers in
// the table; an API error lands next to the series field. Screenshots at
// 1280 px and at phone width go to the test's temp dir (or to
// SEQCAST_SCREENSHOT_DIR when set, to keep them).
func TestForecastPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("real binary and Chromium: not in -short")
	}
	const key = "page-test-key"
	p := startBinary(t, []string{"SEQCAST_API_KEYS=" + key}) // the embedded gold model, with its backtest.json

	// The page and its files: no key needed, no third-party origin allowed.
	for _, path := range []string{"/ui", "/ui/app.js", "/ui/app.css", "/ui/gold-demo.json"} {
		r := p.call(t, "GET", path, "")
		if r.status != 200 || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("GET %s without a key: %d %v", path, r.status, r.header)
		}
		if m := regexp.MustCompile(`(src|href)="(https?:)?//`).FindString(r.raw); m != "" {
			t.Errorf("%s loads from another origin: %s", path, m)
		}
	}
	if r := p.call(t, "POST", "/predict", `{"historical_prices":[1,2,3]}`); r.status != 401 {
		t.Fatalf("POST /predict without a key: %d, want 401", r.status)
	}
	browser := p.call(t, "GET", "/", "", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if browser.status != 302 || browser.header.Get("Location") != "/ui" {
		t.Fatalf("GET / from a browser without a key: %d %v, want a redirect to /ui", browser.status, browser.header)
	}

	shots := t.TempDir()
	if d := os.Getenv("SEQCAST_SCREENSHOT_DIR"); d != "" {
		shots = d
	}
	w, err := dialCDP(startChromium(t))
	if err != nil {
		t.Fatal(err)
	}
	defer w.c.Close()
	pg := page{t: t, w: w}
	pg.viewport(1280, 900, false)
	pg.do("Page.navigate", map[string]any{"url": "http://" + p.addr + "/"}) // a browser's GET / lands on /ui
	pg.waitFor(`location.pathname === "/ui" && document.getElementById("model").options.length > 0`, 20*time.Second)
	pg.waitFor(`/type the api key/i.test(document.getElementById("card-status").textContent)`, 10*time.Second)

	// The series: 80 values a person pastes, one per line.
	series := make([]float64, 80)
	lines := make([]string, len(series))
	for i := range series {
		series[i] = math.Round((1900+25*math.Sin(float64(i)/6)+0.8*float64(i))*100) / 100
		lines[i] = strconv.FormatFloat(series[i], 'f', 2, 64)
	}
	pg.typeInto("apikey", key)
	pg.waitFor(`!document.getElementById("card-table").hidden`, 10*time.Second) // the key opens the model card
	pg.typeInto("series", strings.Join(lines, "\n"))
	pg.typeInto("horizon", "5")
	pg.key("Tab", 9, "")
	if id := pg.activeID(); id != "submit" {
		t.Fatalf("Tab from the horizon focuses %q, want the Forecast button", id)
	}
	pg.key("Enter", 13, "\r")
	pg.waitFor(`document.getElementById("result").dataset.state === "done"`, 20*time.Second)

	var shown struct {
		History  string
		Points   []string
		Band     string
		BandStep string
		Values   []string
		Exact    []string
		Lower    []string
		Upper    []string
		Cached   string
		Server   string
		Client   string
		Card     [][]string
		Verdict  string
	}
	pg.eval(`(() => {
		const q = (s) => Array.from(document.querySelectorAll(s));
		const band = document.querySelector("#chart path.band");
		return {
			history: document.querySelector("#chart path.history").getAttribute("data-points"),
			points: q("#chart circle.forecast-point").map((c) => c.getAttribute("data-value")),
			band: band ? band.getAttribute("d") : "",
			bandStep: band ? band.getAttribute("data-steps") : "",
			values: q("#forecast-table td.value").map((c) => c.textContent),
			exact: q("#forecast-table td.value").map((c) => c.dataset.value),
			lower: q("#forecast-table td.lower").map((c) => c.textContent),
			upper: q("#forecast-table td.upper").map((c) => c.textContent),
			cached: document.getElementById("stat-cached").textContent,
			server: document.getElementById("stat-server").textContent,
			client: document.getElementById("stat-client").textContent,
			card: q("#card-table tbody tr").map((r) => Array.from(r.cells).map((c) => c.textContent)),
			verdict: document.getElementById("card-verdict").textContent,
		};
	})()`, &shown)

	// The API's own answer to the same request (the page's was computed,
	// so this one is a cache hit with the same numbers).
	body, _ := json.Marshal(map[string]any{"historical_prices": series, "horizon": 5, "model": "gold"})
	api := p.call(t, "POST", "/predict", string(body), "X-API-Key", key)
	if api.status != 200 {
		t.Fatalf("POST /predict: %d %s", api.status, api.raw)
	}
	var want struct {
		Forecast  []float64 `json:"forecast"`
		Intervals []struct {
			Lower float64 `json:"lower"`
			Upper float64 `json:"upper"`
		} `json:"forecast_intervals"`
	}
	if err := json.Unmarshal([]byte(api.raw), &want); err != nil || len(want.Forecast) != 5 || len(want.Intervals) != 5 {
		t.Fatalf("POST /predict: %v %s", err, api.raw)
	}
	if shown.History != "80" {
		t.Errorf("chart history: %q points, want 80", shown.History)
	}
	if len(shown.Points) != 5 || len(shown.Values) != 5 || len(shown.Lower) != 5 || len(shown.Upper) != 5 {
		t.Fatalf("chart and table: %d forecast points, %d/%d/%d table values, want 5 each: %+v", len(shown.Points), len(shown.Values), len(shown.Lower), len(shown.Upper), shown)
	}
	if shown.BandStep != "5" || strings.Count(shown.Band, "L") != 10 || !strings.HasSuffix(shown.Band, "Z") {
		t.Errorf("chart band: steps %q, path %q; want a closed path through 5 upper and 5 lower bounds", shown.BandStep, shown.Band)
	}
	for i, v := range want.Forecast {
		pt, _ := strconv.ParseFloat(shown.Points[i], 64)
		ex, _ := strconv.ParseFloat(shown.Exact[i], 64)
		if pt != v || ex != v || !shownMatches(shown.Values[i], v) ||
			!shownMatches(shown.Lower[i], want.Intervals[i].Lower) || !shownMatches(shown.Upper[i], want.Intervals[i].Upper) {
			t.Errorf("step %d: page shows %s [%s, %s] (point %s, exact %s), the API says %v [%v, %v]", i+1,
				shown.Values[i], shown.Lower[i], shown.Upper[i], shown.Points[i], shown.Exact[i], v, want.Intervals[i].Lower, want.Intervals[i].Upper)
		}
	}
	if shown.Cached != "no" || !strings.HasSuffix(shown.Server, " ms") || !strings.HasSuffix(shown.Client, " ms") {
		t.Errorf("stats: cached %q, server %q, client %q", shown.Cached, shown.Server, shown.Client)
	}
	// The model card: the gold model's backtest against the naive forecast.
	if len(shown.Card) != 3 || shown.Card[0][0] != "MAE" || !shownMatches(shown.Card[0][1], 12.932439767860778) ||
		!shownMatches(shown.Card[0][2], 12.544108910891087) || !strings.Contains(shown.Verdict, "does not beat the naive") {
		t.Errorf("model card: %q, verdict %q", shown.Card, shown.Verdict)
	}
	pg.screenshot(filepath.Join(shots, "forecast-page-1280.png"))
	pg.viewport(390, 844, true)
	var chartW float64
	pg.eval(`document.getElementById("chart").getBoundingClientRect().width`, &chartW)
	var overflow bool
	pg.eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if chartW > 390 || overflow {
		t.Errorf("at 390 px: chart %g px wide, page wider than the screen: %v", chartW, overflow)
	}
	pg.screenshot(filepath.Join(shots, "forecast-page-390.png"))
	pg.viewport(1280, 900, false)

	// An API error lands next to the field it names: a value out of range
	// (field historical_prices[3]) at the series, with the field focused.
	lines[3] = "1e13"
	pg.typeInto("series", strings.Join(lines, "\n"))
	pg.eval(`document.getElementById("submit").click()`, nil)
	pg.waitFor(`document.getElementById("result").dataset.state === "error"`, 20*time.Second)
	var e struct {
		Series, Form, Invalid, Active string
	}
	pg.eval(`({series: document.getElementById("series-error").textContent, form: document.getElementById("form-error").textContent,
		invalid: document.getElementById("series").getAttribute("aria-invalid"), active: document.activeElement.id})`, &e)
	if !strings.Contains(e.Series, "historical_prices[3]") || !strings.Contains(e.Series, "value 4 of 80") || e.Form != "" ||
		e.Invalid != "true" || e.Active != "series" {
		t.Errorf("API error on a value: %+v", e)
	}
	// A wrong key: the error is at the key field.
	pg.typeInto("apikey", "wrong")
	lines[3] = "1900"
	pg.typeInto("series", strings.Join(lines, "\n"))
	pg.eval(`document.getElementById("submit").click()`, nil)
	pg.waitFor(`document.getElementById("result").dataset.state === "error"`, 20*time.Second)
	pg.eval(`({series: document.getElementById("series-error").textContent, form: document.getElementById("apikey-error").textContent,
		invalid: document.getElementById("apikey").getAttribute("aria-invalid"), active: document.activeElement.id})`, &e)
	if e.Series != "" || !strings.Contains(e.Form, "API key") || e.Invalid != "true" || e.Active != "apikey" {
		t.Errorf("API error on the key: %+v", e)
	}
	// A CSV upload: the numeric column is picked and fills the series; a
	// column that is not numbers is an error at the upload, naming the line.
	csvPath := filepath.Join(t.TempDir(), "prices.csv")
	csv := "date,price,note\n"
	for i := 0; i < 70; i++ {
		csv += fmt.Sprintf("2024-01-%02d,%d.5,n%d\n", i%28+1, 1800+i, i)
	}
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Root struct{ NodeID int } }
	_ = json.Unmarshal(pg.do("DOM.getDocument", map[string]any{}), &doc)
	var input struct{ NodeID int }
	_ = json.Unmarshal(pg.do("DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": "#csv"}), &input)
	pg.do("DOM.setFileInputFiles", map[string]any{"nodeId": input.NodeID, "files": []string{csvPath}})
	pg.waitFor(`!document.getElementById("column").disabled && document.getElementById("series-info").textContent === "70 values"`, 10*time.Second)
	var picked struct{ Column, First, Last string }
	pg.eval(`(() => { const s = document.getElementById("column"), v = document.getElementById("series").value.split("\n");
		return {column: s.options[s.selectedIndex].textContent, first: v[0], last: v[v.length - 1]}; })()`, &picked)
	if picked.Column != "price" || picked.First != "1800.5" || picked.Last != "1869.5" {
		t.Errorf("CSV upload: %+v, want the price column, 1800.5 to 1869.5", picked)
	}
	pg.eval(`(() => { const s = document.getElementById("column"); s.value = "2"; s.dispatchEvent(new Event("change")); })()`, nil)
	var csvErr string
	pg.eval(`document.getElementById("csv-error").textContent`, &csvErr)
	if !strings.Contains(csvErr, `column note, line 2: "n0" is not a number`) {
		t.Errorf("CSV column of words: error %q", csvErr)
	}

	// The built-in demo series: the last 250 days of the gold data, of which
	// the chart shows the last 120, then a 10-step forecast.
	pg.typeInto("apikey", key)
	pg.eval(`document.getElementById("demo").click()`, nil)
	pg.waitFor(`/^250 values: gold/.test(document.getElementById("series-info").textContent)`, 10*time.Second)
	pg.typeInto("horizon", "10")
	pg.eval(`document.getElementById("submit").click()`, nil)
	pg.waitFor(`document.getElementById("result").dataset.state === "done"`, 20*time.Second)
	var demo struct {
		History string
		Points  int
	}
	pg.eval(`({history: document.querySelector("#chart path.history").getAttribute("data-points"),
		points: document.querySelectorAll("#chart circle.forecast-point").length})`, &demo)
	if demo.History != "120" || demo.Points != 10 {
		t.Errorf("demo series: %+v, want 120 history points and 10 forecast points", demo)
	}
	pg.screenshot(filepath.Join(shots, "forecast-page-demo-1280.png"))

	// The key stays in the page: nothing in the browser's storage.
	var stored int
	pg.eval(`localStorage.length + sessionStorage.length + document.cookie.length`, &stored)
	if stored != 0 {
		t.Errorf("the page stored %d things in the browser", stored)
	}
}
