package deploy

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisNode is one redis-server in cluster mode on a fixed loopback port
// and directory, so that it can be killed and started again as the same
// node (its nodes.conf survives; its data does not: persistence is off).
type redisNode struct {
	cli, dir    string
	port, bus   int
	addr        string
	nodeTimeout time.Duration

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	runs int
}

// start launches the node and waits until it answers PING.
func (n *redisNode) start(t *testing.T) {
	t.Helper()
	n.mu.Lock()
	n.runs++
	logPath := filepath.Join(n.dir, fmt.Sprintf("redis-%d.log", n.runs))
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(n.port),
		"--cluster-port", strconv.Itoa(n.bus),
		"--bind", "127.0.0.1",
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.FormatInt(n.nodeTimeout.Milliseconds(), 10),
		// A replica whose master died may always take over (the default
		// refuses when the link was down too long: a test restarts nodes).
		"--cluster-replica-validity-factor", "0",
		"--save", "", "--appendonly", "no",
		"--dir", n.dir, "--daemonize", "no", "--protected-mode", "yes",
		"--logfile", logPath)
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		t.Fatalf("redis node %s: %v", n.addr, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	waitFor(t, 15*time.Second, "redis node "+n.addr+" answering PING", func() bool {
		out, err := n.redisCLI("ping")
		return err == nil && strings.TrimSpace(out) == "PONG"
	}, n.log)
}

// kill sends SIGKILL (a crash: no shutdown, no nodes.conf save) and waits.
func (n *redisNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd, n.done = nil, nil
}

// redisCLI runs redis-cli against the node, bounded in time.
func (n *redisNode) redisCLI(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.cli, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(n.port)}, args...)...).Output()
	return string(out), err
}

// log returns the node's latest log file.
func (n *redisNode) log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, _ := os.ReadFile(filepath.Join(n.dir, fmt.Sprintf("redis-%d.log", n.runs)))
	return string(b)
}

// id returns the node's cluster ID.
func (n *redisNode) id(t *testing.T) string {
	t.Helper()
	out, err := n.redisCLI("cluster", "myid")
	if err != nil || len(strings.TrimSpace(out)) != 40 {
		t.Fatalf("redis-cli cluster myid on %s: %q %v", n.addr, out, err)
	}
	return strings.TrimSpace(out)
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, master string
	flags            []string
}

func (c clusterNode) has(flag string) bool {
	for _, f := range c.flags {
		if f == flag {
			return true
		}
	}
	return false
}

// nodes parses CLUSTER NODES as this node sees the cluster.
func (n *redisNode) nodes() (map[string]clusterNode, error) {
	out, err := n.redisCLI("cluster", "nodes")
	if err != nil {
		return nil, err
	}
	m := map[string]clusterNode{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		m[f[0]] = clusterNode{id: f[0], addr: addr, master: f[3], flags: strings.Split(f[2], ",")}
	}
	return m, nil
}

// clusterOK reports whether the node says cluster_state:ok.
func (n *redisNode) clusterOK() bool {
	out, err := n.redisCLI("cluster", "info")
	return err == nil && strings.Contains(out, "cluster_state:ok")
}

// startRedisCluster starts masters*(1+replicas) redis-server processes in
// cluster mode on free loopback ports (client and bus port chosen
// explicitly with cluster-port), joins them with redis-cli --cluster create
// --cluster-replicas replicas, and waits until every node says
// cluster_state:ok and every replica's link to its master is up. The nodes
// are killed when the test ends.
func startRedisCluster(t *testing.T, cli string, masters, replicas int, nodeTimeout time.Duration) []*redisNode {
	t.Helper()
	var nodes []*redisNode
	var addrs []string
	for range masters * (1 + replicas) {
		port, bus := freePort(t), freePort(t)
		n := &redisNode{cli: cli, dir: t.TempDir(), port: port, bus: bus, nodeTimeout: nodeTimeout,
			addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		n.start(t)
		t.Cleanup(n.kill)
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, n := range nodes {
		waitFor(t, 30*time.Second, "cluster_state:ok on "+n.addr, n.clusterOK, n.log)
	}
	if replicas > 0 {
		for _, n := range nodes {
			waitFor(t, 30*time.Second, "replication settled on "+n.addr, func() bool {
				out, err := n.redisCLI("info", "replication")
				return err == nil && (strings.Contains(out, "role:master") || strings.Contains(out, "master_link_status:up"))
			}, n.log)
		}
	}
	return nodes
}
