package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/serving"
)

// Metrics is the service's Prometheus metrics on a registry of its own (no
// global state). Create it before the model registry and hand
// ObserveForward to serving.Options.Observer so forward passes are timed.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	forward   *prometheus.HistogramVec
	fwdBatch  prometheus.Histogram
	batch     *prometheus.HistogramVec
	cacheOps  *prometheus.CounterVec
	cacheSets *prometheus.CounterVec
	reloads   *prometheus.CounterVec
	panics    prometheus.Counter
}

// NewMetrics creates the metrics (Go runtime and process collectors
// included) on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqcast_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seqcast_http_in_flight_requests", Help: "HTTP requests being served.",
		}),
		forward: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqcast_model_forward_duration_seconds", Help: "Model forward-pass latency (one pass over a batch).",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"model", "version"}),
		fwdBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "seqcast_model_forward_batch_size", Help: "Samples per model forward pass.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000},
		}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqcast_request_batch_size", Help: "Windows (instances) per prediction request, by route.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}, []string{"route"}),
		cacheOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_cache_requests_total", Help: "Prediction cache lookups by backend and result (hit, miss, error).",
		}, []string{"backend", "result"}),
		cacheSets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_cache_stores_total", Help: "Prediction cache stores by backend and result (ok, error).",
		}, []string{"backend", "result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_model_reloads_total", Help: "Model reloads by result (ok, error).",
		}, []string{"result"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqcast_http_panics_total", Help: "Handler panics recovered into a 500.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.forward, m.fwdBatch, m.batch, m.cacheOps,
		m.cacheSets, m.reloads, m.panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the Prometheus registry the metrics live on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveForward records one forward pass (a serving.ForwardObserver).
func (m *Metrics) ObserveForward(model string, version int64, batch int, d time.Duration) {
	m.forward.WithLabelValues(model, strconv.FormatInt(version, 10)).Observe(d.Seconds())
	m.fwdBatch.Observe(float64(batch))
}

// cacheHook counts cache operations (a cache.Hook).
func (m *Metrics) cacheHook(op, backend, result string, _ error) {
	if op == cache.OpGet {
		m.cacheOps.WithLabelValues(backend, result).Inc()
	} else {
		m.cacheSets.WithLabelValues(backend, result).Inc()
	}
}

// modelInfo exports seqcast_model_info and seqcast_ready from the registry at
// scrape time, so reloads need no bookkeeping.
type modelInfo struct {
	reg   *serving.Registry
	ready func() bool
	info  *prometheus.Desc
	rdy   *prometheus.Desc
}

func newModelInfo(reg *serving.Registry, ready func() bool) *modelInfo {
	return &modelInfo{
		reg: reg, ready: ready,
		info: prometheus.NewDesc("seqcast_model_info", "Served models (value 1), labelled with version, fingerprint and window; default=1 marks each name's default version.",
			[]string{"model", "version", "fingerprint", "window", "default"}, nil),
		rdy: prometheus.NewDesc("seqcast_ready", "1 when every model is loaded and the server is not draining.", nil, nil),
	}
}

func (mi *modelInfo) Describe(ch chan<- *prometheus.Desc) { ch <- mi.info; ch <- mi.rdy }

func (mi *modelInfo) Collect(ch chan<- prometheus.Metric) {
	for _, m := range mi.reg.Models() {
		def := "0"
		if d, err := mi.reg.Get(m.Name(), 0); err == nil && d == m {
			def = "1"
		}
		ch <- prometheus.MustNewConstMetric(mi.info, prometheus.GaugeValue, 1, m.Name(),
			strconv.FormatInt(m.Version(), 10), m.Fingerprint()[:16], strconv.Itoa(m.Window()), def)
	}
	v := 0.0
	if mi.ready() {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(mi.rdy, prometheus.GaugeValue, v)
}
