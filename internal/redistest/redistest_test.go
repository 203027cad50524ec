package redistest

import (
	"crypto/tls"
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	addr, stop, restart := Start(t)
	if err := ping(addr); err != nil {
		t.Fatalf("ping after Start: %v", err)
	}
	stop()
	if err := ping(addr); err == nil {
		t.Fatal("ping succeeded after stop")
	}
	stop() // idempotent
	restart()
	if err := ping(addr); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
}

func TestStartSentinel(t *testing.T) {
	master, _, _ := Start(t)
	sentinel := StartSentinel(t, master, "mymaster")
	if err := ping(sentinel); err != nil {
		t.Fatalf("ping sentinel: %v", err)
	}
}

func TestStartTLS(t *testing.T) {
	addr, roots := StartTLS(t)
	if err := pingTLS(addr, &tls.Config{RootCAs: roots}); err != nil {
		t.Fatalf("TLS ping: %v", err)
	}
	if err := ping(addr); err == nil {
		t.Fatal("plain-text PING answered on the TLS port")
	}
}
