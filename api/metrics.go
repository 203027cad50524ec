package api

import (
	"net/http"
	"strconv"
	"sync"
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
	queueWait *prometheus.HistogramVec
	batchReqs *prometheus.HistogramVec
	queued    *prometheus.GaugeVec   // samples waiting for admission, by model
	shed      *prometheus.CounterVec // requests not computed, by model and reason
	redisUp   prometheus.Gauge       // registered by Server.MonitorCache: only a Redis cache has it
	watch     *modelWatch            // out of range, drift, prediction histograms (watch.go)

	// Children resolved once per label set: WithLabelValues hashes its
	// labels on every call.
	mu       sync.RWMutex
	reqCount map[reqLabels]prometheus.Counter
	reqLat   map[string]prometheus.Observer
	reqBatch map[string]prometheus.Observer
	fwd      map[modelLabels]batchChildren
}

type reqLabels struct {
	route, method string
	status        int
}

type modelLabels struct {
	model   string
	version int64
}

type batchChildren struct {
	forward, wait, requests prometheus.Observer
}

// maxCachedChildren bounds each child cache (methods come from clients).
const maxCachedChildren = 512

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
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqcast_batch_queue_wait_seconds", Help: "Time a request's forward pass waited in the dynamic batching queue.",
			Buckets: []float64{.00001, .00005, .0001, .00025, .0005, .001, .002, .005, .01, .025, .05},
		}, []string{"model", "version"}),
		batchReqs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqcast_batch_requests", Help: "Requests merged into one forward pass by dynamic batching.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}, []string{"model", "version"}),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seqcast_queued_samples", Help: "Samples (windows, instances) of requests waiting for admission control, by model.",
		}, []string{"model"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqcast_shed_requests_total", Help: "Requests not computed or not delivered, by model and reason (deadline, queue_full: answered 503 with Retry-After; client_gone: the client left before its work started or its response could not be written).",
		}, []string{"model", "reason"}),
		redisUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seqcast_redis_up", Help: "1 when the Redis cache answered the server's last background PING, else 0 (exported only with a Redis cache).",
		}),
		reqCount: map[reqLabels]prometheus.Counter{},
		reqLat:   map[string]prometheus.Observer{},
		reqBatch: map[string]prometheus.Observer{},
		fwd:      map[modelLabels]batchChildren{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.forward, m.fwdBatch, m.batch, m.cacheOps,
		m.cacheSets, m.reloads, m.panics, m.queueWait, m.batchReqs, m.queued, m.shed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.watch = newModelWatch(m.reg)
	return m
}

// Registry is the Prometheus registry the metrics live on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Admission fills o's Queued and Shed hooks with the seqcast_queued_samples
// gauge and the seqcast_shed_requests_total counter; hand the result to
// serving.NewAdmission.
func (m *Metrics) Admission(o serving.AdmissionOptions) serving.AdmissionOptions {
	o.Queued = func(model string, samples int) { m.queued.WithLabelValues(model).Set(float64(samples)) }
	o.Shed = func(model string, reason serving.ShedReason) { m.shed.WithLabelValues(model, string(reason)).Inc() }
	return o
}

// ObserveForward records one forward pass (a serving.ForwardObserver).
func (m *Metrics) ObserveForward(model string, version int64, batch int, d time.Duration) {
	m.modelChildren(model, version).forward.Observe(d.Seconds())
	m.fwdBatch.Observe(float64(batch))
}

// ObserveBatch records one pass merged by dynamic batching (a
// serving.BatchObserver): the requests it carried and each one's queue wait.
// Its samples and duration are recorded by ObserveForward.
func (m *Metrics) ObserveBatch(model string, version int64, samples int, waits []time.Duration) {
	ch := m.modelChildren(model, version)
	ch.requests.Observe(float64(len(waits)))
	for _, w := range waits {
		ch.wait.Observe(w.Seconds())
	}
}

func (m *Metrics) modelChildren(model string, version int64) batchChildren {
	k := modelLabels{model, version}
	m.mu.RLock()
	ch, ok := m.fwd[k]
	m.mu.RUnlock()
	if ok {
		return ch
	}
	v := strconv.FormatInt(version, 10)
	ch = batchChildren{
		forward:  m.forward.WithLabelValues(model, v),
		wait:     m.queueWait.WithLabelValues(model, v),
		requests: m.batchReqs.WithLabelValues(model, v),
	}
	m.mu.Lock()
	if len(m.fwd) < maxCachedChildren {
		m.fwd[k] = ch
	}
	m.mu.Unlock()
	return ch
}

// observeRequest counts one HTTP request and its latency.
func (m *Metrics) observeRequest(route, method string, status int, d time.Duration) {
	method = methodLabel(method)
	k := reqLabels{route, method, status}
	m.mu.RLock()
	cnt, ok1 := m.reqCount[k]
	lat, ok2 := m.reqLat[route]
	m.mu.RUnlock()
	if !ok1 || !ok2 {
		cnt = m.requests.WithLabelValues(route, method, strconv.Itoa(status))
		lat = m.latency.WithLabelValues(route)
		m.mu.Lock()
		if len(m.reqCount) < maxCachedChildren {
			m.reqCount[k] = cnt
			m.reqLat[route] = lat
		}
		m.mu.Unlock()
	}
	cnt.Inc()
	lat.Observe(d.Seconds())
}

// methodLabel keeps the method label to a fixed set: a client may send any
// token as its method, and each distinct one would otherwise be a new
// series in the registry (unbounded memory and /metrics output).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// observeRequestBatch records the windows of one prediction request.
func (m *Metrics) observeRequestBatch(route string, n int) {
	m.mu.RLock()
	o, ok := m.reqBatch[route]
	m.mu.RUnlock()
	if !ok {
		o = m.batch.WithLabelValues(route)
		m.mu.Lock()
		m.reqBatch[route] = o // routes are the server's own: a handful
		m.mu.Unlock()
	}
	o.Observe(float64(n))
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
	fill  *prometheus.Desc
}

func newModelInfo(reg *serving.Registry, ready func() bool) *modelInfo {
	return &modelInfo{
		reg: reg, ready: ready,
		info: prometheus.NewDesc("seqcast_model_info", "Served models (value 1), labelled with version, fingerprint and window; default=1 marks each name's default version.",
			[]string{"model", "version", "fingerprint", "window", "default"}, nil),
		rdy: prometheus.NewDesc("seqcast_ready", "1 when every model is loaded and the server is not draining.", nil, nil),
		fill: prometheus.NewDesc("seqcast_input_drift_windows",
			"Distinct request windows in the drift ring, by model and version (models with training_stats.json); seqcast_input_drift_psi appears once it holds the ring's size (label size).",
			[]string{"model", "version", "size"}, nil),
	}
}

func (mi *modelInfo) Describe(ch chan<- *prometheus.Desc) { ch <- mi.info; ch <- mi.rdy; ch <- mi.fill }

func (mi *modelInfo) Collect(ch chan<- prometheus.Metric) {
	for _, m := range mi.reg.Models() {
		def := "0"
		if d, err := mi.reg.Get(m.Name(), 0); err == nil && d == m {
			def = "1"
		}
		ch <- prometheus.MustNewConstMetric(mi.info, prometheus.GaugeValue, 1, m.Name(),
			strconv.FormatInt(m.Version(), 10), m.Fingerprint()[:16], strconv.Itoa(m.Window()), def)
		if n, size, ok := m.DriftFill(); ok {
			ch <- prometheus.MustNewConstMetric(mi.fill, prometheus.GaugeValue, float64(n), m.Name(),
				strconv.FormatInt(m.Version(), 10), strconv.Itoa(size))
		}
	}
	v := 0.0
	if mi.ready() {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(mi.rdy, prometheus.GaugeValue, v)
}
