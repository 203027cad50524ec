package serving

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Drift: the population stability index (PSI) of the recent distinct
// request windows against the training sketch, and the threshold it is read
// against, calibrated on the training windows themselves.
//
// Distinct windows. Production traffic repeats windows (every client asks
// for today's forecast), and 1,000 copies of one window are one observation
// of the input distribution, not 1,000. The ring therefore holds distinct
// windows only: a window whose hash (windowHash: 64 bits of its float64 bit
// patterns) is already in the ring is not counted again. Two different
// windows with the same hash are taken for one: the second is left out of
// the drift statistic (never out of the out-of-range checks, which every
// window gets). With at most DriftWindows hashes in the ring, the chance that
// a new window collides with one of them is below 1000/2^64 (about 5e-17).
//
// Calibration. 1,000 consecutive windows of a long series cover one stretch
// of it, one regime, while the training sketch is the whole series: for gold,
// 1968-2015, whose own 1,000-window blocks reach a PSI of 3.5. A fixed 0.25
// would fire on gold's own training data. ComputeTrainingStats runs the
// training windows in order through the same monitor the server uses (same
// bins, floor, ring and stride) and records the PSI its blocks reach
// (DriftCalibration); the server's threshold is the larger of
// DefaultDriftThreshold and that maximum.

// DefaultDriftThreshold is the usual "significant shift" reading of a PSI,
// the threshold of a feature without calibration, and the least one with.
const DefaultDriftThreshold = 0.25

// DriftCalibration is the PSI that blocks of consecutive training windows
// reach against the training sketch, computed as the server computes it.
type DriftCalibration struct {
	// Windows is the block (ring) size: DriftWindows, or half the training
	// windows when there are fewer than DriftWindows. The server's ring
	// holds as many.
	Windows int `json:"windows"`
	// Blocks is how many blocks there were: one every DriftEvery windows
	// once the first is full.
	Blocks int     `json:"blocks"`
	PSIP50 float64 `json:"psi_p50"`
	PSIP99 float64 `json:"psi_p99"`
	PSIMax float64 `json:"psi_max"`
}

// Threshold is the PSI above which a feature has drifted:
// max(DefaultDriftThreshold, PSIMax), DefaultDriftThreshold without
// calibration.
func (c *DriftCalibration) Threshold() float64 {
	if c == nil {
		return DefaultDriftThreshold
	}
	return max(DefaultDriftThreshold, c.PSIMax)
}

func (c *DriftCalibration) check(window int) error {
	if c.Windows < 1 || c.Windows > DriftWindows || c.Windows != window {
		return fmt.Errorf("drift.windows %d: want 1 to %d, the same for every feature", c.Windows, DriftWindows)
	}
	if c.Blocks < 1 {
		return fmt.Errorf("drift.blocks %d: want at least 1", c.Blocks)
	}
	for _, v := range []float64{c.PSIP50, c.PSIP99, c.PSIMax} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("drift: PSI %v: want a finite value >= 0", v)
		}
	}
	if !(c.PSIP50 <= c.PSIP99 && c.PSIP99 <= c.PSIMax) {
		return fmt.Errorf("drift: want psi_p50 <= psi_p99 <= psi_max")
	}
	return nil
}

// calibrateDrift records in ts each drift feature's DriftCalibration, from
// the windows of T rows of x in order, through newMonitor and observe as a
// server would see them. With fewer than DriftWindows windows the blocks are
// half of them; with fewer than 2*DriftEvery there is no calibration (the
// threshold stays DefaultDriftThreshold).
func calibrateDrift(ts *TrainingStats, x [][]float64, T int) {
	n := len(x) - T + 1
	if n < 2*DriftEvery {
		return
	}
	size := min(DriftWindows, n)
	if n < DriftWindows {
		size = n / 2
	}
	m := newMonitorSize(ts, size)
	F := ts.Features
	win := make([]float64, T*F)
	psis := make([][]float64, len(m.drift))
	for i := range n {
		for t := range T {
			copy(win[t*F:(t+1)*F], x[i+t])
		}
		_, d := m.observe(win, F, nil)
		for j, v := range d {
			psis[j] = append(psis[j], v.PSI)
		}
	}
	for j, i := range m.drift {
		p := psis[j]
		if len(p) == 0 {
			continue
		}
		slices.Sort(p)
		ts.Stats[i].Drift = &DriftCalibration{Windows: size, Blocks: len(p),
			PSIP50: quantile(p, 0.5), PSIP99: quantile(p, 0.99), PSIMax: p[len(p)-1]}
	}
}

// quantile is numpy's default (linear) quantile q of sorted values.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

// windowHash is a 64-bit hash of a window's float64 bit patterns: FNV-1a
// taking a 64-bit word at a time, in four interleaved lanes (values i mod 4;
// a quarter of the dependent multiplications' latency), the lanes rotated
// apart and combined, then SplitMix64's finaliser to spread every bit over
// the result. Each lane's step is a bijection of its state, so windows of
// one length that differ in one value always hash apart. Never 0 (the hash
// set's empty slot): 0 becomes 1.
func windowHash(w []float64) uint64 {
	const prime = 1099511628211
	h := [4]uint64{14695981039346656037, 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9}
	i := 0
	for ; i+4 <= len(w); i += 4 {
		h[0] = (h[0] ^ math.Float64bits(w[i])) * prime
		h[1] = (h[1] ^ math.Float64bits(w[i+1])) * prime
		h[2] = (h[2] ^ math.Float64bits(w[i+2])) * prime
		h[3] = (h[3] ^ math.Float64bits(w[i+3])) * prime
	}
	for ; i < len(w); i++ {
		h[i%4] = (h[i%4] ^ math.Float64bits(w[i])) * prime
	}
	x := h[0] ^ bits.RotateLeft64(h[1], 16) ^ bits.RotateLeft64(h[2], 32) ^ bits.RotateLeft64(h[3], 48) ^ uint64(len(w))
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return max(x, 1)
}

// hashSet is a fixed-capacity set of non-zero hashes: open addressing with
// linear probing and backward-shift deletion (no tombstones), so adds and
// deletes never allocate and probes stay short at its load of at most 1/2.
type hashSet struct {
	keys []uint64
	mask uint64
}

// newHashSet holds up to n hashes.
func newHashSet(n int) hashSet {
	c := 1
	for c < 2*n {
		c *= 2
	}
	return hashSet{keys: make([]uint64, c), mask: uint64(c - 1)}
}

// slot is where h is, or the empty slot where it would go.
func (s *hashSet) slot(h uint64) uint64 {
	i := h & s.mask
	for s.keys[i] != 0 && s.keys[i] != h {
		i = (i + 1) & s.mask
	}
	return i
}

func (s *hashSet) has(h uint64) bool { return s.keys[s.slot(h)] == h }

func (s *hashSet) add(h uint64) { s.keys[s.slot(h)] = h }

// del removes h (present), moving back the keys after it that would no
// longer be found.
func (s *hashSet) del(h uint64) {
	i := s.slot(h)
	for j := (i + 1) & s.mask; s.keys[j] != 0; j = (j + 1) & s.mask {
		home := s.keys[j] & s.mask
		// Move keys[j] to the hole i unless its home lies cyclically in (i, j].
		if (j-home)&s.mask >= (j-i)&s.mask {
			s.keys[i] = s.keys[j]
			i = j
		}
	}
	s.keys[i] = 0
}

// psi is the population stability index sum((a-e) ln(a/e)) of counts (over
// n windows) against the expected shares, both floored at psiFloor: the one
// function the server's monitor and the calibration compute it with.
func psi(counts []int, expect []float64, n int) float64 {
	var s float64
	for k, c := range counts {
		a := max(float64(c)/float64(n), psiFloor)
		e := max(expect[k], psiFloor)
		s += (a - e) * math.Log(a/e)
	}
	return s
}

// psiFloor keeps empty bins from making the PSI infinite.
const psiFloor = 1e-4
