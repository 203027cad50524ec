package jsoncodec

import "fmt"

// SeriesCount is Series that also returns how many values the array held
// (the forecast API dates its forecast from the series' length).
func SeriesCount(raw []byte, field string, b Bounds) ([]float64, int, error) {
	r := newReader(raw, field, b)
	ring := make([]float64, b.Steps)
	n, e := r.series(ring, fmt.Sprintf("an array of at least %d numbers", b.Steps))
	if e != nil {
		return nil, 0, e
	}
	if n < b.Steps {
		return nil, 0, r.fail("need at least %d values (the model's window), got %d", b.Steps, n)
	}
	if r.peek() != 0 {
		return nil, 0, r.fail("unexpected text after the array")
	}
	return ring, n, nil
}

// RowsCount is Rows that also returns how many rows the array held.
func RowsCount(raw []byte, field string, b Bounds) ([]float64, int, error) {
	r := newReader(raw, field, b)
	ring := make([]float64, b.Steps*b.Features)
	n, e := r.rows(ring, fmt.Sprintf("an array of at least %d rows of %d features", b.Steps, b.Features))
	if e != nil {
		return nil, 0, e
	}
	if n < b.Steps {
		return nil, 0, r.fail("need at least %d rows of %d features (the model's window), got %d rows", b.Steps, b.Features, n)
	}
	if r.peek() != 0 {
		return nil, 0, r.fail("unexpected text after the array")
	}
	return ring, n, nil
}
