package api

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// The forecast page (GET /ui) and its files, embedded with the API's other
// assets: no CDN, no network fetch, so it works offline and in a scratch
// container. The page and its files need no API key; the page sends the key
// its user types only with its API calls.

// uiCSP lets the page load its own script, style and demo series and call
// this server's API, nothing else.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// uiFiles are the page's files by route, with their content types.
var uiFiles = []struct{ route, file, ctype string }{
	{"/ui", "index.html", "text/html; charset=utf-8"},
	{"/ui/app.js", "app.js", "text/javascript; charset=utf-8"},
	{"/ui/app.css", "app.css", "text/css; charset=utf-8"},
	{"/ui/gold-demo.json", "gold-demo.json", "application/json"},
}

// uiRoutes registers GET and HEAD for every file of the page.
func (s *Server) uiRoutes(e *gin.Engine) error {
	for _, f := range uiFiles {
		b, err := fs.ReadFile(assets, "assets/ui/"+f.file)
		if err != nil {
			return err
		}
		ctype := f.ctype
		h := func(c *gin.Context) {
			c.Header("Content-Security-Policy", uiCSP)
			c.Header("X-Content-Type-Options", "nosniff")
			c.Header("Cache-Control", "no-cache")
			c.Data(http.StatusOK, ctype, b)
		}
		e.GET(f.route, h)
		e.HEAD(f.route, h)
	}
	return nil
}

// publicPage reports whether r asks for the forecast page or its files, or
// is a browser's GET / (answered with a redirect to the page): these need no
// API key.
func publicPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.Path == "/" {
		return prefersHTML(r.Header.Values("Accept"))
	}
	return r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, "/ui/")
}
