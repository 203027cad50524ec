package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// defaultHealthTimeout bounds the whole healthcheck request: well under the
// shortest probe timeout a container runtime would use.
const defaultHealthTimeout = 2 * time.Second

// runHealthcheck asks the local server's /ready (or --path) and exits 0 on
// 200, 1 otherwise. It exists so that a FROM scratch image, which has no
// curl or wget, can still declare a HEALTHCHECK.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	return healthcheckMain(context.Background(), args, os.Getenv, stdout, stderr)
}

// healthcheckMain is runHealthcheck with the environment injected (tests).
func healthcheckMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defAddr := getenv("SEQCAST_ADDR")
	if defAddr == "" {
		defAddr = ":8000"
	}
	addr := fs.String("addr", defAddr, "the server to ask: its listen address (host:port or :port) or a URL (env SEQCAST_ADDR)")
	path := fs.String("path", "/ready", "path to GET; 200 means healthy")
	timeout := fs.Duration("timeout", defaultHealthTimeout, "give up after this long")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: seqcast healthcheck [flags]

Exits 0 when the local seqcast server answers GET /ready with 200, else 1.
For container HEALTHCHECKs in images without curl:

	HEALTHCHECK CMD ["/seqcast", "healthcheck"]

A listen address such as :8000 or 0.0.0.0:8000 is asked on 127.0.0.1.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "seqcast healthcheck: unexpected arguments %q\n", fs.Args())
		return 2
	}
	target, err := healthURL(*addr, *path)
	if err != nil {
		fmt.Fprintf(stderr, "seqcast healthcheck: --addr %q: %v\n", *addr, err)
		return 2
	}
	if *timeout <= 0 {
		*timeout = defaultHealthTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "seqcast healthcheck: %v\n", err)
		return 2
	}
	// No proxies (a container's HTTP_PROXY must not intercept localhost)
	// and no keep-alive: one request, then exit.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "seqcast healthcheck: %s: %v\n", target, err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "seqcast healthcheck: %s: %s\n", target, resp.Status)
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "%s: %s\n", target, resp.Status)
	}
	return 0
}

// healthURL turns a listen address or URL into the URL to GET. Listen
// addresses with no host or a wildcard host are asked on 127.0.0.1 (a
// literal: a scratch image has no /etc/hosts to resolve localhost with).
func healthURL(addr, path string) (string, error) {
	if path == "" {
		path = "/ready"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		if u.Host == "" {
			return "", errors.New("no host")
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = path
		}
		return u.String(), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port == "" {
		return "", errors.New("no port")
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
