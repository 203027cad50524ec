package redistest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long Start waits for the server to answer PING.
const readyTimeout = 15 * time.Second

// Start launches redis-server on 127.0.0.1 and returns its address
// ("127.0.0.1:port"), stop (kills the server; idempotent) and restart
// (starts it again on the same port and waits until it answers PING; the
// data is gone since persistence is off). Both may be called from any
// goroutine; t.Cleanup stops the server.
func Start(t testing.TB) (addr string, stop func(), restart func()) {
	t.Helper()
	s := newServer(t)
	s.args = []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--protected-mode", "yes",
	}
	if err := s.start(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.stop)
	restart = func() {
		s.stop()
		if err := s.start(); err != nil {
			t.Errorf("redistest: restart: %v", err)
		}
	}
	return s.addr, s.stop, restart
}

// StartSentinel launches a Redis Sentinel on 127.0.0.1 that monitors the
// server at masterAddr (e.g. from Start) under masterName, with quorum 1,
// and returns the sentinel's address. It is stopped when the test ends.
func StartSentinel(t testing.TB, masterAddr, masterName string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		t.Fatalf("redistest: sentinel master address %q: %v", masterAddr, err)
	}
	s := newServer(t)
	// Sentinel rewrites its config file, so it must be a writable file.
	conf := filepath.Join(s.dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\n", s.port, s.dir, masterName, host, port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s.args = []string{conf, "--sentinel"}
	if err := s.start(); err != nil {
		t.Fatalf("redistest: sentinel: %v", err)
	}
	t.Cleanup(s.stop)
	return s.addr
}

// StartTLS launches redis-server on 127.0.0.1 accepting only TLS, with a
// freshly generated self-signed certificate for 127.0.0.1 (clients are not
// asked for certificates). It returns the address and a pool holding the
// certificate, for tls.Config.RootCAs. It is stopped when the test ends.
func StartTLS(t testing.TB) (addr string, roots *x509.CertPool) {
	t.Helper()
	s := newServer(t)
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	certFile := filepath.Join(s.dir, "cert.pem")
	keyFile := filepath.Join(s.dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	s.tls = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	s.args = []string{
		"--port", "0",
		"--tls-port", strconv.Itoa(s.port),
		"--tls-cert-file", certFile,
		"--tls-key-file", keyFile,
		"--tls-ca-cert-file", certFile,
		"--tls-auth-clients", "no",
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	}
	if err := s.start(); err != nil {
		t.Fatalf("redistest: tls: %v", err)
	}
	t.Cleanup(s.stop)
	return s.addr, roots
}

// selfSigned makes a one-hour ECDSA certificate for 127.0.0.1, PEM-encoded.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redistest"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// newServer finds redis-server (failing the test if it is missing; with
// -short the test is skipped instead, found or not) and reserves a port and
// a directory.
func newServer(t testing.TB) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("redistest: needs a real redis-server; skipped with -short")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not on PATH (apt-get install redis-server; make prepare does it): %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return &server{
		bin:  bin,
		dir:  t.TempDir(),
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		port: port,
	}
}

type server struct {
	bin, dir, addr string
	port           int
	args           []string
	tls            *tls.Config // for the readiness PING; nil: plain TCP

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	runs int
}

func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	s.runs++
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	deadline := time.Now().Add(readyTimeout)
	for {
		if err := pingTLS(s.addr, s.tls); err == nil {
			break
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redis-server on %s not answering PING after %v: %v\n%s", s.addr, readyTimeout, err, log)
		}
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redis-server on %s exited early:\n%s", s.addr, log)
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.cmd, s.done = cmd, done
	return nil
}

func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error { return pingTLS(addr, nil) }

func pingTLS(addr string, cfg *tls.Config) error {
	var (
		c   net.Conn
		err error
	)
	d := &net.Dialer{Timeout: time.Second}
	if cfg != nil {
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
