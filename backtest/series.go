package backtest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSVOptions say which columns of a CSV file make the series.
type CSVOptions struct {
	// Columns are the model's input features, in the model's order. Empty:
	// the target alone (a univariate model).
	Columns []string
	// Target is the column the model forecasts. Empty: the only column of
	// Columns, or, without Columns, the only column that is not the dates.
	Target string
	// DateColumn holds the dates. Empty: a column named date, time,
	// datetime, timestamp or ds (any case) if there is one, unless NoDates.
	DateColumn string
	NoDates    bool
	// MaxBytes bounds the file (0: 1 GiB); MaxRows the rows (0: 10 million).
	MaxBytes int64
	MaxRows  int
}

// Series is a CSV file's series: one row per time step.
type Series struct {
	Columns    []string    // the model's input columns, in order
	Target     string      // the forecast column
	X          [][]float64 // X[row][feature], the Columns' values
	Y          []float64   // the target's values
	DateColumn string      // "" without dates
	Dates      []time.Time // nil without dates
	DateLayout string      // the layout the dates were read with
	Lines      []int       // each row's line in the file (1-based)
}

// Len is the number of rows.
func (s *Series) Len() int { return len(s.Y) }

// CSVError is a CSV file that cannot be read as a series: where (Line, 0
// for the file as a whole; Column, when one is at fault) and why.
type CSVError struct {
	Line   int
	Column string
	Msg    string
}

func (e *CSVError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// dateNames are the column names taken as dates when none is named.
var dateNames = []string{"date", "time", "datetime", "timestamp", "ds"}

// dateLayouts are the date formats ReadCSV understands.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2006-01",
	"2006",
}

// ReadCSV reads a series from CSV with a header row. Every value of the
// columns used must be a finite number and every date a date in one of the
// formats ISO 8601 writes (2006-01-02, 2006-01-02T15:04:05Z07:00, 2006-01,
// ...), strictly ascending; errors are *CSVError with the line.
func ReadCSV(r io.Reader, o CSVOptions) (*Series, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 10_000_000
	}
	lr := &io.LimitedReader{R: r, N: o.MaxBytes + 1}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &CSVError{Msg: "the file is empty (want a header row naming the columns)"}
		}
		return nil, csvErr(err)
	}
	head = slices.Clone(head)
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff") // a UTF-8 byte order mark
	}
	index := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(h)
		head[i] = h
		if _, dup := index[h]; dup {
			return nil, &CSVError{Line: 1, Column: h, Msg: "appears twice in the header"}
		}
		index[h] = i
	}
	find := func(name, what string) (int, error) {
		if i, ok := index[name]; ok {
			return i, nil
		}
		return 0, &CSVError{Line: 1, Column: name, Msg: fmt.Sprintf("no such column (%s); the header has %s", what, quoteList(head))}
	}
	s := &Series{}
	dateCol := -1
	switch {
	case o.DateColumn != "":
		if dateCol, err = find(o.DateColumn, "--date-column"); err != nil {
			return nil, err
		}
	case !o.NoDates:
		for i, h := range head {
			if slices.Contains(dateNames, strings.ToLower(h)) {
				dateCol = i
				break
			}
		}
	}
	if dateCol >= 0 {
		s.DateColumn = head[dateCol]
	}
	s.Columns, s.Target = slices.Clone(o.Columns), o.Target
	switch {
	case len(s.Columns) == 0 && s.Target == "":
		var rest []string
		for i, h := range head {
			if i != dateCol {
				rest = append(rest, h)
			}
		}
		if len(rest) != 1 {
			return nil, &CSVError{Line: 1, Msg: fmt.Sprintf("%d columns besides the dates (%s): name the series with --column", len(rest), quoteList(rest))}
		}
		s.Target = rest[0]
		s.Columns = rest
	case len(s.Columns) == 0:
		s.Columns = []string{s.Target}
	case s.Target == "":
		if len(s.Columns) != 1 {
			return nil, &CSVError{Msg: fmt.Sprintf("%d input columns: name the one the model forecasts with --target", len(s.Columns))}
		}
		s.Target = s.Columns[0]
	}
	tcol, err := find(s.Target, "the target")
	if err != nil {
		return nil, err
	}
	if tcol == dateCol {
		return nil, &CSVError{Line: 1, Column: s.Target, Msg: "is the date column; it cannot be the target"}
	}
	cols := make([]int, len(s.Columns))
	for j, c := range s.Columns {
		if cols[j], err = find(c, "an input column"); err != nil {
			return nil, err
		}
		if cols[j] == dateCol {
			return nil, &CSVError{Line: 1, Column: c, Msg: "is the date column; it cannot be a model input"}
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		if lr.N <= 0 {
			return nil, &CSVError{Msg: fmt.Sprintf("the file is larger than %d bytes", o.MaxBytes)}
		}
		if len(s.Y) >= o.MaxRows {
			return nil, &CSVError{Msg: fmt.Sprintf("more than %d rows", o.MaxRows)}
		}
		line, _ := cr.FieldPos(0)
		num := func(c int) (float64, error) {
			f := strings.TrimSpace(rec[c])
			if f == "" {
				return 0, &CSVError{Line: line, Column: head[c], Msg: "empty value: a backtest needs every value (fill or drop the row)"}
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return 0, &CSVError{Line: line, Column: head[c], Msg: fmt.Sprintf("%q is not a number", f)}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || err != nil {
				return 0, &CSVError{Line: line, Column: head[c], Msg: fmt.Sprintf("%q is not a finite number: a backtest needs every value (fill or drop the row)", f)}
			}
			return v, nil
		}
		x := make([]float64, len(cols))
		for j, c := range cols {
			if x[j], err = num(c); err != nil {
				return nil, err
			}
		}
		y, err := num(tcol)
		if err != nil {
			return nil, err
		}
		if dateCol >= 0 {
			f := strings.TrimSpace(rec[dateCol])
			d, layout, err := parseDate(f, s.DateLayout)
			if err != nil {
				return nil, &CSVError{Line: line, Column: head[dateCol], Msg: err.Error()}
			}
			s.DateLayout = layout
			if n := len(s.Dates); n > 0 && !d.After(s.Dates[n-1]) {
				return nil, &CSVError{Line: line, Column: head[dateCol], Msg: fmt.Sprintf("%s is not after the previous row's %s (line %d): want dates strictly ascending",
					f, s.Dates[n-1].Format(layout), s.Lines[n-1])}
			}
			s.Dates = append(s.Dates, d)
		}
		s.X = append(s.X, x)
		s.Y = append(s.Y, y)
		s.Lines = append(s.Lines, line)
	}
	if len(s.Y) == 0 {
		return nil, &CSVError{Msg: "no rows after the header"}
	}
	return s, nil
}

// parseDate reads a date with layout, or, when layout is "", with the
// first of dateLayouts that fits.
func parseDate(f, layout string) (time.Time, string, error) {
	if layout != "" {
		d, err := time.Parse(layout, f)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%q is not a date like the first row's (layout %s)", f, layout)
		}
		return d, layout, nil
	}
	for _, l := range dateLayouts {
		if d, err := time.Parse(l, f); err == nil {
			return d, l, nil
		}
	}
	return time.Time{}, "", fmt.Errorf("%q is not a date (want ISO 8601: 2006-01-02, 2006-01-02T15:04:05Z07:00, 2006-01-02 15:04:05, 2006-01 or 2006)", f)
}

// csvErr turns encoding/csv's error into a *CSVError with its line.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &CSVError{Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &CSVError{Msg: err.Error()}
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// ParseDate reads a date in one of the formats ReadCSV understands.
func ParseDate(s string) (time.Time, error) {
	d, _, err := parseDate(strings.TrimSpace(s), "")
	return d, err
}
