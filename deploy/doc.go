// Package deploy holds seqcast's deployment artefacts and the tests that
// prove them; it has no non-test code.
//
// Files:
//
//	../Dockerfile      multi-stage build: `make build` in golang, then FROM scratch
//	compose.yaml       seqcast + Redis for docker compose
//	k8s/               kustomize base: Deployment, Service, HPA, PDB, ConfigMap
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
//     the Makefile and the running binary.
//
// They need make, redis-server and redis-cli, and root for chroot: missing
// ones fail the tests when CI is set and skip them otherwise.
package deploy
