package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		addr, path, want string
		bad              bool
	}{
		{addr: ":8000", path: "/ready", want: "http://127.0.0.1:8000/ready"},
		{addr: "0.0.0.0:8000", path: "/ready", want: "http://127.0.0.1:8000/ready"},
		{addr: "[::]:9000", path: "/health", want: "http://127.0.0.1:9000/health"},
		{addr: "10.0.0.7:8000", path: "ready", want: "http://10.0.0.7:8000/ready"},
		{addr: "[::1]:8000", path: "", want: "http://[::1]:8000/ready"},
		{addr: "http://127.0.0.1:8000", path: "/ready", want: "http://127.0.0.1:8000/ready"},
		{addr: "http://svc:8000/custom", path: "/ready", want: "http://svc:8000/custom"},
		{addr: "8000", bad: true},
		{addr: "127.0.0.1:", bad: true},
		{addr: "ftp://h:1", bad: true},
		{addr: "http://", bad: true},
	}
	for _, tc := range tests {
		got, err := healthURL(tc.addr, tc.path)
		if tc.bad {
			if err == nil {
				t.Errorf("healthURL(%q): got %q, want an error", tc.addr, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("healthURL(%q, %q) = %q, %v; want %q", tc.addr, tc.path, got, err, tc.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	status := map[string]int{"/ready": http.StatusOK, "/health": http.StatusOK, "/draining": http.StatusServiceUnavailable}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, ok := status[r.URL.Path]
		if !ok {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
	}))
	defer ts.Close()
	hostport := strings.TrimPrefix(ts.URL, "http://")
	_, port, _ := net.SplitHostPort(hostport)

	// A port nothing listens on: take one and release it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{name: "url", args: []string{"--addr", ts.URL}, want: 0},
		{name: "hostport", args: []string{"--addr", hostport}, want: 0},
		{name: "listen address", args: []string{"--addr", ":" + port}, want: 0},
		{name: "env", env: map[string]string{"SEQCAST_ADDR": ":" + port}, want: 0},
		{name: "flag beats env", args: []string{"--addr", hostport}, env: map[string]string{"SEQCAST_ADDR": closed}, want: 0},
		{name: "path", args: []string{"--addr", hostport, "--path", "/health"}, want: 0},
		{name: "503", args: []string{"--addr", hostport, "--path", "/draining"}, want: 1},
		{name: "404", args: []string{"--addr", hostport, "--path", "/nope"}, want: 1},
		{name: "refused", args: []string{"--addr", closed}, want: 1},
		{name: "bad addr", args: []string{"--addr", "nonsense"}, want: 2},
		{name: "extra args", args: []string{"x"}, want: 2},
		{name: "help", args: []string{"-h"}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			var stdout, stderr bytes.Buffer
			if got := healthcheckMain(context.Background(), tc.args, getenv, &stdout, &stderr); got != tc.want {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", got, tc.want, stdout.String(), stderr.String())
			}
		})
	}
}
