package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seqcast/seqcast/api"
	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/internal/kerasflags"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
	"github.com/seqcast/seqcast/weights"
)

// Options is what a program passes to Main beside the command line.
type Options struct {
	// Layers adds layer classes of the program's own (package layers) to
	// the built-in ones, for every model served.
	Layers layers.Set
	// Name is how usage and errors name the command ("seqcast serve" when
	// empty).
	Name string
	// Version and Commit are logged and reported by /health ("dev" and
	// "unknown" when empty).
	Version, Commit string
	// Stderr receives the usage text and usage errors, and the log under
	// --log-output stderr (os.Stderr when nil).
	Stderr io.Writer
	// Stdout receives the log under --log-output stdout, the default
	// (os.Stdout when nil).
	Stdout io.Writer
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
	// Hangup delivers reload requests; nil means SIGHUP does.
	Hangup <-chan os.Signal
	// Ready, if not nil, receives the listening address once every model is
	// loaded.
	Ready chan<- string
}

// Main serves models over HTTP, as `seqcast serve` does, with the flags in
// args (and their environment variables), until ctx is done or the process
// gets SIGTERM or SIGINT (then it drains); SIGHUP reloads every model. It
// returns the exit status: 0 after a clean stop or -h, 1 when serving
// failed (a model did not load, the address is taken), 2 for a usage
// error. It sets gin's mode to release and, unless GOGC is set, the GC
// target (--gc-percent): process-wide settings, as a main's.
func Main(ctx context.Context, args []string, opts Options) int {
	if opts.Name == "" {
		opts.Name = "seqcast serve"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.Commit == "" {
		opts.Commit = "unknown"
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if opts.Hangup == nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		opts.Hangup = hup
	}
	gin.SetMode(gin.ReleaseMode)
	return serveMain(ctx, args, opts)
}

// serveConfig is everything `seqcast serve` is told by flags and environment.
type serveConfig struct {
	Addr              string
	Model             string
	ModelName         string
	ModelsDir         string
	DefaultModel      string
	VersionLabels     string
	DefaultVersion    string
	Rollout           rolloutFlags // --shadow, --shadow-rate, --canary
	OutOfRange        string
	RedisURL          string
	RedisTimeout      time.Duration
	CacheTTL          time.Duration
	CacheSize         int
	CacheBytes        int64
	BodyLimit         int64
	MaxBatch          int
	MaxHorizon        int
	RateLimit         float64
	RateBurst         int
	APIKeys           string
	AdminKey          string
	CORSOrigins       string
	TrustedProxies    string
	ReadTimeout       time.Duration
	ReadHeaderTimeout time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	DrainTimeout      time.Duration
	ShutdownDelay     time.Duration
	LogLevel          string
	LogFormat         string
	LogOutput         string
	Batching          bool
	BatchWindow       time.Duration
	BatchSize         int
	BatchWorkers      int
	Admission         bool // admission control on forward work (serving/admission.go)
	MaxQueuedWork     int
	ComputeSlots      int
	PprofAddr         string
	GCPercent         int
	RequestLogRate    float64 // share of /predict requests logged (api.Config.RequestLogRate)
	RequestLogValues  bool

	models map[string]serving.ModelOptions // from VersionLabels and DefaultVersion
	keras  kerasflags.Flags                // preprocessing for --model FILE.h5|FILE.keras
	opts   Options
}

// serveFlags defines every flag; each is also read from its environment
// variable (the flag wins when both are given).
func serveFlags(fs *flag.FlagSet, c *serveConfig) map[string]string {
	env := map[string]string{}
	str := func(p *string, name, ev, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+ev+")")
		env[name] = ev
	}
	dur := func(p *time.Duration, name, ev string, def time.Duration, usage string) {
		fs.DurationVar(p, name, def, usage+" (env "+ev+")")
		env[name] = ev
	}
	num := func(p *int, name, ev string, def int, usage string) {
		fs.IntVar(p, name, def, usage+" (env "+ev+")")
		env[name] = ev
	}
	str(&c.Addr, "addr", "SEQCAST_ADDR", ":8000", "listen address")
	str(&c.Model, "model", "SEQCAST_MODEL", "", "serve this bundle directory or Keras .h5/.keras file (with --scaler-x/--scaler-y or --window-zscore) instead of the embedded gold model")
	str(&c.ModelName, "model-name", "SEQCAST_MODEL_NAME", "", "model name for --model (default: a bundle's manifest name, else the directory's or file's name without extension)")
	str(&c.ModelsDir, "models-dir", "SEQCAST_MODELS_DIR", "", "serve every NAME/VERSION/ folder under this directory (TF Serving layout; a bundle or exactly one .h5/.keras file per version; NAME/model.yaml configures a model; the highest version is the default unless configured otherwise)")
	str(&c.DefaultModel, "default-model", "SEQCAST_DEFAULT_MODEL", "", `model used when a request names none (default: "gold" if served, else the first name)`)
	str(&c.VersionLabels, "version-labels", "SEQCAST_VERSION_LABELS", "",
		"version labels, TF Serving style: comma-separated NAME:LABEL=VERSION (an entry without NAME: continues the previous model), e.g. gold:stable=1,canary=2; requests may then say model_version \"canary\" or use /v1/models/NAME/labels/LABEL. Every label must point to a loaded version")
	str(&c.DefaultVersion, "default-version", "SEQCAST_DEFAULT_VERSION", "",
		"comma-separated NAME:VERSION or NAME:LABEL: the version a request naming none gets (default: the highest), so a newer version can be loaded and tried before it takes the traffic")
	str(&c.Rollout.Shadow, "shadow", "SEQCAST_SHADOW", "",
		"comma-separated NAME:VERSION: a sample (--shadow-rate) of the requests the default version serves also run on VERSION off the response path (its own small queue, dropped when full), their divergence exported as seqcast_shadow_divergence")
	fs.Float64Var(&c.Rollout.ShadowRate, "shadow-rate", serving.DefaultShadowRate, "share (0 to 1) of the default version's requests that --shadow also runs (env SEQCAST_SHADOW_RATE)")
	env["shadow-rate"] = "SEQCAST_SHADOW_RATE"
	str(&c.Rollout.Canary, "canary", "SEQCAST_CANARY", "",
		"comma-separated NAME:VERSION=PERCENT: that share of the requests naming no version go to VERSION instead of the default, chosen by a hash of the input (the same input always gets the same version)")
	str(&c.RedisURL, "redis-url", "SEQCAST_REDIS_URL", "", "cache predictions in Redis (redis://, rediss://, redis+sentinel://, redis+cluster://); empty: in-process LRU")
	dur(&c.RedisTimeout, "redis-timeout", "SEQCAST_REDIS_TIMEOUT", cache.DefaultRedisOpTimeout, "bound on every Redis operation; slower means a miss")
	str(&c.OutOfRange, "out-of-range", "SEQCAST_OUT_OF_RANGE", api.OutOfRangeWarn,
		"a request window beyond what the model saw in training (its bundle's training_stats.json, widened by the margin): warn (a warnings entry in the answer, a log line, seqcast_out_of_range_total) or reject (422)")
	dur(&c.CacheTTL, "cache-ttl", "SEQCAST_CACHE_TTL", api.DefaultCacheTTL, "how long a prediction stays cached; 0 disables the cache")
	num(&c.CacheSize, "cache-size", "SEQCAST_CACHE_SIZE", 4096, "entries in the in-process cache")
	num(&c.GCPercent, "gc-percent", "SEQCAST_GC_PERCENT", 50, "Go GC target (as GOGC; ignored when GOGC is set): 50 keeps the gold model's serving RSS under 30 MiB at no measurable throughput cost; 100 is Go's default")
	fs.Int64Var(&c.CacheBytes, "cache-max-bytes", 64<<20, "bound on the in-process cache's keys and values in bytes (env SEQCAST_CACHE_MAX_BYTES)")
	env["cache-max-bytes"] = "SEQCAST_CACHE_MAX_BYTES"
	fs.Int64Var(&c.BodyLimit, "body-limit", api.DefaultBodyLimit, "maximum request body in bytes (env SEQCAST_BODY_LIMIT)")
	env["body-limit"] = "SEQCAST_BODY_LIMIT"
	num(&c.MaxBatch, "max-batch", "SEQCAST_MAX_BATCH", api.DefaultMaxBatch, "maximum windows per batch or TF Serving request")
	num(&c.MaxHorizon, "max-horizon", "SEQCAST_MAX_HORIZON", api.DefaultMaxHorizon, "maximum forecast horizon (recursive steps)")
	fs.Float64Var(&c.RateLimit, "rate-limit", 0, "requests per second per client IP; 0: unlimited (env SEQCAST_RATE_LIMIT)")
	env["rate-limit"] = "SEQCAST_RATE_LIMIT"
	num(&c.RateBurst, "rate-burst", "SEQCAST_RATE_BURST", 0, "burst per client IP (default: twice the rate, at least 1)")
	str(&c.APIKeys, "api-keys", "SEQCAST_API_KEYS", "", "comma-separated API keys required on every route but /health, /ready and the forecast page /ui (prefer the env var: flags show in ps)")
	str(&c.AdminKey, "admin-key", "SEQCAST_ADMIN_KEY", "", "key enabling POST /v1/models/{name}:reload (prefer the env var)")
	str(&c.CORSOrigins, "cors-origins", "SEQCAST_CORS_ORIGINS", "", `comma-separated browser origins allowed by CORS ("*": any); empty: no CORS`)
	str(&c.TrustedProxies, "trusted-proxies", "SEQCAST_TRUSTED_PROXIES", "", "comma-separated proxy IPs/CIDRs whose X-Forwarded-For identifies the client; empty: none")
	dur(&c.ReadTimeout, "read-timeout", "SEQCAST_READ_TIMEOUT", 10*time.Second, "maximum time to read a request")
	dur(&c.ReadHeaderTimeout, "read-header-timeout", "SEQCAST_READ_HEADER_TIMEOUT", 5*time.Second, "maximum time to read request headers")
	dur(&c.WriteTimeout, "write-timeout", "SEQCAST_WRITE_TIMEOUT", 30*time.Second, "maximum time to write a response")
	dur(&c.IdleTimeout, "idle-timeout", "SEQCAST_IDLE_TIMEOUT", 120*time.Second, "keep-alive idle timeout")
	dur(&c.DrainTimeout, "drain-timeout", "SEQCAST_DRAIN_TIMEOUT", 15*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may finish")
	dur(&c.ShutdownDelay, "shutdown-delay", "SEQCAST_SHUTDOWN_DELAY", 0, "on SIGTERM/SIGINT, keep accepting (with /ready at 503) this long before draining, for load balancers to notice")
	str(&c.LogLevel, "log-level", "SEQCAST_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "SEQCAST_LOG_FORMAT", "json", "json or text")
	str(&c.LogOutput, "log-output", "SEQCAST_LOG_OUTPUT", "stdout", "where the log goes: stdout or stderr (usage errors always go to stderr)")
	fs.BoolVar(&c.Batching, "batching", true, "dynamic batching: merge concurrent small forward passes into one (env SEQCAST_BATCHING)")
	env["batching"] = "SEQCAST_BATCHING"
	dur(&c.BatchWindow, "batch-window", "SEQCAST_BATCH_WINDOW", serving.DefaultBatchWindow, "with --batching, how long a request may wait for companions while a worker is free; 0 disables batching")
	num(&c.BatchSize, "batch-size", "SEQCAST_BATCH_SIZE", serving.DefaultBatchMax, "with --batching, most samples in one merged forward pass")
	num(&c.BatchWorkers, "batch-workers", "SEQCAST_BATCH_WORKERS", 0, "with --batching, merged passes running at once (0: GOMAXPROCS)")
	fs.BoolVar(&c.Admission, "admission", true, "admission control: bound the forward work in flight and queued, shed what cannot finish before its deadline (503, Retry-After) (env SEQCAST_ADMISSION)")
	env["admission"] = "SEQCAST_ADMISSION"
	num(&c.MaxQueuedWork, "max-queued-work", "SEQCAST_MAX_QUEUED_WORK", serving.DefaultMaxQueuedWork, "with --admission, most sample-steps (windows × horizon) waiting in each lane; more is 503 queue_full")
	num(&c.ComputeSlots, "compute-slots", "SEQCAST_COMPUTE_SLOTS", 0, "with --admission, large requests computing at once (0: GOMAXPROCS)")
	fs.Float64Var(&c.RequestLogRate, "request-log-rate", 0, `share (0 to 1) of answered prediction requests (every prediction route) logged as one JSON "prediction" line (request id, model, input summary, prediction, interval, cached, latency, warnings; docs/api.md); 0: none (env SEQCAST_REQUEST_LOG_RATE)`)
	env["request-log-rate"] = "SEQCAST_REQUEST_LOG_RATE"
	fs.BoolVar(&c.RequestLogValues, "request-log-values", false, "with --request-log-rate, also log the input window's values (env SEQCAST_REQUEST_LOG_VALUES)")
	env["request-log-values"] = "SEQCAST_REQUEST_LOG_VALUES"
	str(&c.PprofAddr, "pprof-addr", "SEQCAST_PPROF_ADDR", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty: off")
	// The preprocessing of a Keras file given to --model: import's flags.
	c.keras.Register(fs)
	for name, ev := range map[string]string{"scaler-x": "SEQCAST_SCALER_X", "scaler-y": "SEQCAST_SCALER_Y",
		"window-zscore": "SEQCAST_WINDOW_ZSCORE", "epsilon": "SEQCAST_EPSILON", "target-feature": "SEQCAST_TARGET_FEATURE",
		"window": "SEQCAST_WINDOW"} {
		f := fs.Lookup(name)
		f.Usage += " (with --model FILE.h5|FILE.keras; env " + ev + ")"
		env[name] = ev
	}
	return env
}

// serveMain is Main once its options are complete.
func serveMain(ctx context.Context, args []string, opts Options) int {
	getenv, stderr, name := opts.Getenv, opts.Stderr, opts.Name
	c := serveConfig{opts: opts}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := serveFlags(fs, &c)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: "+name+` [flags]

Serves forecasts over HTTP: POST /predict, /predict/batch, TF Serving's
/v1/models/{name}:predict, /health, /ready, /metrics, /docs, GET / (see
docs/api.md).
With no flags it serves the embedded gold model on :8000; --model serves a
bundle directory or a Keras .h5/.keras file (with its scaler pickles), and
--models-dir a TF Serving style NAME/VERSION/ repository (see README). Every flag can also
be set through the environment variable named beside it; a flag given on the
command line wins. SIGHUP reloads every model; SIGTERM/SIGINT drain and stop.

Flags:
`)
		fs.PrintDefaults()
	}
	for name, ev := range env {
		if v := getenv(ev); v != "" {
			if err := fs.Set(name, v); err != nil {
				fmt.Fprintf(stderr, name+": %s=%q: %v\n", ev, v, err)
				return 2
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, name+": unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	c.keras.Set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { c.keras.Set[f.Name] = true })
	if err := checkServeKeras(c); err != nil {
		fmt.Fprintf(stderr, name+": %v\n", err)
		return 2
	}
	logW, err := logOutput(c.LogOutput, opts)
	if err != nil {
		fmt.Fprintf(stderr, name+": %v\n", err)
		return 2
	}
	logger, err := newLogger(logW, c.LogLevel, c.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, name+": %v\n", err)
		return 2
	}
	if c.models, err = modelOptions(c.VersionLabels, c.DefaultVersion, c.Rollout); err != nil {
		fmt.Fprintf(stderr, name+": %v\n", err)
		return 2
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
	if err := serve(ctx, c, logger, opts.Hangup, opts.Ready); err != nil {
		logger.Error("serve failed", "err", err.Error())
		return 1
	}
	return 0
}

// logOutput is the writer --log-output names.
func logOutput(name string, opts Options) (io.Writer, error) {
	switch name {
	case "stdout":
		return opts.Stdout, nil
	case "stderr":
		return opts.Stderr, nil
	}
	return nil, fmt.Errorf("--log-output %q: want stdout or stderr", name)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkServeKeras refuses preprocessing flags that would be ignored (no
// --model, or --model naming a bundle directory) and inconsistent ones.
func checkServeKeras(c serveConfig) error {
	var given []string
	for _, n := range kerasflags.Names {
		if c.keras.Set[n] {
			given = append(given, "--"+n)
		}
	}
	if len(given) == 0 {
		return nil
	}
	if c.Model == "" {
		return fmt.Errorf("%s apply to --model FILE.h5|FILE.keras only (in --models-dir, NAME/model.yaml's keras: section sets them)", strings.Join(given, ", "))
	}
	if st, err := os.Stat(c.Model); err == nil && st.IsDir() {
		return fmt.Errorf("%s apply to a Keras file; --model %s is a bundle directory, which carries its own scaler.json", strings.Join(given, ", "), c.Model)
	}
	return c.keras.Check()
}

// sources turns --model / --models-dir into registry sources; neither means
// the embedded gold bundle.
func sources(c serveConfig) ([]serving.Source, error) {
	var out []serving.Source
	if c.ModelsDir != "" {
		out = append(out, serving.ModelsDir(c.ModelsDir))
	}
	if c.Model != "" {
		st, err := os.Stat(c.Model)
		if err != nil {
			return nil, fmt.Errorf("--model: %w", err)
		}
		if !st.IsDir() {
			name := c.ModelName
			if name == "" {
				base := filepath.Base(c.Model)
				name = strings.TrimSuffix(base, filepath.Ext(base))
			}
			if err := serving.CheckModelName(name); err != nil {
				return nil, fmt.Errorf("--model %s: %w (name it with --model-name)", c.Model, err)
			}
			return append(out, serving.KerasFile(name, 0, c.Model, c.keras.Options())), nil
		}
		name := c.ModelName
		if name == "" {
			if b, err := os.ReadFile(filepath.Join(c.Model, "manifest.json")); err == nil {
				if m, err := weights.ParseManifest(b); err == nil && m.Name != "" {
					name = m.Name
				}
			}
		}
		if name == "" {
			abs, err := filepath.Abs(c.Model)
			if err != nil {
				return nil, err
			}
			name = filepath.Base(abs)
		}
		if err := serving.CheckModelName(name); err != nil {
			return nil, fmt.Errorf("--model %s: %w (name it with --model-name)", c.Model, err)
		}
		out = append(out, serving.BundleDir(name, 0, c.Model))
	}
	if len(out) == 0 {
		out = append(out, serving.Embedded(models.DefaultName, 0, models.Gold()))
	}
	return out, nil
}

func serve(ctx context.Context, c serveConfig, logger *slog.Logger, hup <-chan os.Signal, ready chan<- string) error {
	srcs, err := sources(c)
	if err != nil {
		return err
	}
	metrics := api.NewMetrics()
	adm := serving.NewAdmission(metrics.Admission(serving.AdmissionOptions{Disabled: !c.Admission,
		MaxQueuedWork: c.MaxQueuedWork, LargeSlots: c.ComputeSlots}))
	reg := serving.NewRegistry(serving.Options{
		Admission: adm,
		Default:   c.DefaultModel, Observer: metrics.ObserveForward, Logger: logger,
		Batch: serving.BatchOptions{Enabled: c.Batching && c.BatchWindow > 0, Window: c.BatchWindow,
			MaxBatch: c.BatchSize, Workers: c.BatchWorkers},
		BatchObserver: metrics.ObserveBatch,
		Models:        c.models,
		Layers:        c.opts.Layers,
	}, srcs...)
	if c.PprofAddr != "" {
		stopPprof, err := servePprof(c.PprofAddr, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	ttl := c.CacheTTL // 0: no caching, as in api.Config and cache.Cache.Set
	if ttl < 0 {
		return fmt.Errorf("--cache-ttl %v: must not be negative (0 disables the cache)", ttl)
	}
	var store cache.Cache
	switch {
	case ttl == 0:
	case c.RedisURL != "":
		// go-redis logs every failed dial through its own (process-wide)
		// logger; the guarded cache already logs an outage once, so its
		// lines go to debug level in our JSON log.
		redis.SetLogger(redisLogger{logger})
		// No ping at start: a Redis that is down only means misses until it
		// comes back, which the cache counts and logs.
		r, err := cache.NewRedis(ctx, c.RedisURL, cache.RedisOptions{OpTimeout: c.RedisTimeout, SkipPing: true})
		if err != nil {
			return err
		}
		store = r
		logger.Info("cache: redis", "mode", r.Mode(), "timeout", c.RedisTimeout.String(), "ttl", ttl.String())
	default:
		m, err := cache.NewMemoryWithOptions(cache.MemoryOptions{MaxEntries: c.CacheSize, MaxBytes: c.CacheBytes})
		if err != nil {
			return err
		}
		store = m
		logger.Info("cache: in-process LRU", "entries", c.CacheSize, "max_bytes", c.CacheBytes, "ttl", ttl.String())
	}
	srv, err := api.New(api.Config{
		BodyLimit:      c.BodyLimit,
		CacheTTL:       ttl,
		MaxBatch:       c.MaxBatch,
		MaxHorizon:     c.MaxHorizon,
		APIKeys:        splitList(c.APIKeys),
		AdminKey:       c.AdminKey,
		RateLimit:      c.RateLimit,
		RateBurst:      c.RateBurst,
		CORSOrigins:    splitList(c.CORSOrigins),
		TrustedProxies: splitList(c.TrustedProxies),
		Logger:         logger,
		Version:        c.opts.Version,
		Metrics:        metrics,
		RequestTimeout: requestTimeout(c.WriteTimeout),
		OutOfRange:     c.OutOfRange,

		RequestLogRate:   c.RequestLogRate,
		RequestLogValues: c.RequestLogValues,
	}, reg, store)
	if err != nil {
		if store != nil {
			store.Close()
		}
		return err
	}
	defer srv.Close()
	// redis_connected in /health: a PING a second in the background, stopped
	// (before the cache is closed) when serving ends.
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan struct{})
	go func() { defer close(monDone); srv.MonitorCache(monCtx) }()
	defer func() { stopMon(); <-monDone }()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadTimeout:       c.ReadTimeout,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	addr := ln.Addr().String()
	logger.Info("listening", "addr", addr, "version", c.opts.Version, "commit", c.opts.Commit, "api_keys", len(splitList(c.APIKeys)),
		"admin", c.AdminKey != "", "rate_limit", c.RateLimit, "body_limit", c.BodyLimit)

	t0 := time.Now()
	if err := reg.Load(ctx); err != nil {
		hs.Close()
		return fmt.Errorf("loading models: %w", err)
	}
	for _, m := range reg.Models() {
		logger.Info("serving model", "model", m.Name(), "version", m.Version(), "window", m.Window(),
			"fingerprint", m.Fingerprint()[:16], "origin", m.Origin())
	}
	for _, st := range reg.Statuses() {
		if len(st.Labels) > 0 || len(st.Versions) > 1 {
			logger.Info("model versions", "model", st.Name, "default_version", st.DefaultVer, "labels", st.Labels)
		}
	}
	logger.Info("ready", "default_model", reg.Default(), "load_ms", float64(time.Since(t0).Microseconds())/1000)
	if ready != nil {
		ready <- addr
	}

	for {
		select {
		case err := <-serveErr:
			return err
		case <-hup:
			logger.Info("SIGHUP: reloading every model")
			if err := srv.Reload(ctx, ""); err != nil {
				logger.Error("reload failed; still serving the previous models", "err", err.Error())
			}
		case <-ctx.Done():
			return shutdown(hs, srv, c, logger)
		}
	}
}

// redisLogger routes go-redis's internal log lines to slog at debug level.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// shutdown turns /ready to 503, optionally keeps serving for ShutdownDelay,
// then stops accepting and waits up to DrainTimeout for in-flight requests.
func shutdown(hs *http.Server, srv *api.Server, c serveConfig, logger *slog.Logger) error {
	srv.SetDraining(true)
	logger.Info("shutting down: draining", "delay", c.ShutdownDelay.String(), "timeout", c.DrainTimeout.String())
	time.Sleep(c.ShutdownDelay)
	dctx, cancel := context.WithTimeout(context.Background(), c.DrainTimeout)
	defer cancel()
	if err := hs.Shutdown(dctx); err != nil {
		logger.Warn("drain timed out; closing remaining connections", "err", err.Error())
		hs.Close()
	}
	logger.Info("stopped")
	return nil
}

// requestTimeout is the deadline of a request that computes: 90% of the
// write timeout, so that an answer computed in time is still written (the
// rest covers encoding and writing it); 0 (no write timeout) means none.
func requestTimeout(write time.Duration) time.Duration {
	if write <= 0 {
		return 0
	}
	return write * 9 / 10
}
