// Package deploy holds seqcast's deployment artefacts and the tests that
// prove them; it has no non-test code.
//
// Files:
//
//	../Dockerfile      multi-stage build: `make build` in golang, then FROM scratch
//	compose.yaml       seqcast + Redis for docker compose
//	k8s/               kustomize base: Deployment, Service, HPA, PDB, ConfigMap
//	kserve/            KServe ClusterServingRuntimes (a bundle; a models directory of Keras
//	                   files or bundles), InferenceServices (Knative concurrency autoscaling;
//	                   RawDeployment with an HPA on the queued-work gauge)
//	grafana/           a Grafana dashboard (seqcast-dashboard.json) and Prometheus
//	                   alert rules (alerts.yaml) over the server's /metrics
//
// The tests build bin/seqcast exactly as `make build` does (they run the
// Makefile's build target into a temporary directory) and then:
//
//   - check the binary is static (no PT_INTERP, no PT_DYNAMIC/.dynamic,
//     stripped, CGO_ENABLED=0, -trimpath) and stamped with its version;
//   - copy it alone into an empty directory, chroot into it as an
//     unprivileged user (what FROM scratch with USER 65532 gives it), start
//     `seqcast serve`, and check /ready and /predict;
//   - run three replicas sharing one redis-server, then a three-master Redis
//     Cluster, and check that a prediction made by one replica is a cache hit
//     on the others and survives the first replica stopping;
//   - parse the Dockerfile, compose.yaml and every manifest in k8s/ and check
//     their ports, probe paths, environment variables and build steps against
//     the Makefile and the running binary;
//   - parse every manifest in kserve/ and run each runtime's own command line
//     with /mnt/models pointing at a model of its kind: its flags, port,
//     probes, metrics path and /v2 (Open Inference Protocol) routes must work,
//     each InferenceService must name a runtime and format that exist, and
//     the HPA must scale KServe's Deployment on a gauge the server exports.
//     No Kubernetes or KServe runs here: the checks are static plus the real
//     binary;
//   - run HAProxy in front of three replicas sharing a Redis Cluster of three
//     masters with a replica each, under load, crash a replica and a master
//     (SIGKILL) and bring them back: no request fails, every answer equals an
//     uncached reference server's, and cache hits resume
//     (failover_test.go; a few seconds here, the long run under
//     `make reliability`);
//   - start the binary with a Redis cache and a shadow version, and a real
//     Prometheus scraping it with the alert rules loaded; send it computed,
//     cached, batched, shed and out-of-range predictions and check that
//     every metric and label the Grafana dashboard and the alert rules use
//     is one its /metrics exposes, that the exposition passes client_golang's
//     metric lint, that Prometheus evaluates every dashboard query with data,
//     every rule without error, and that the drift alert goes pending on
//     drifted windows only (grafana_test.go); run promtool's check and unit
//     tests on the rules (prometheus_test.go, grafana/alerts_test.yaml);
//   - start it with --request-log-rate 1 (and 0) and check the sampled
//     "prediction" log lines (requestlog_test.go).
//
// They need make, redis-server, redis-cli, haproxy, prometheus and promtool
// (make prepare installs them), and root or user namespaces for chroot: a missing one fails the
// tests; go test -short skips them all.
package deploy
