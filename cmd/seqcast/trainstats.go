package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/seqcast/seqcast/backtest"
	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/serving"
)

// trainingStats computes training_stats.json from the training part of a
// backtest's series: the windows whose targets come before the test period,
// or, with trainTo, whose targets are dated trainTo or earlier.
func trainingStats(b *bundle.Bundle, m *serving.Model, s *backtest.Series, c backtest.Config, trainTo string) ([]byte, error) {
	N := s.Len()
	end := 0 // the first row that is not a training target
	switch {
	case trainTo != "":
		if s.Dates == nil {
			return nil, fmt.Errorf("--train-to needs dates: name the date column with --date-column")
		}
		d, err := backtest.ParseDate(trainTo)
		if err != nil {
			return nil, fmt.Errorf("--train-to: %w", err)
		}
		end = sort.Search(N, func(i int) bool { return s.Dates[i].After(d) })
	case !c.TestFrom.IsZero():
		end = sort.Search(N, func(i int) bool { return !s.Dates[i].Before(c.TestFrom) })
	default:
		end = N - int(math.Round(c.TestFraction*float64(N)))
	}
	// The inputs of the windows with targets before end: rows [0, end-1).
	rows := end - 1
	if rows < m.Window() {
		return nil, fmt.Errorf("the training part has %d rows of inputs; model %q needs at least one window of %d", max(rows, 0), m.Name(), m.Window())
	}
	sc, _ := b.File(serving.ScalerFile)
	ts, err := serving.ComputeTrainingStats(s.X[:rows], m.Window(), s.Columns, serving.WindowRelative(sc))
	if err != nil {
		return nil, err
	}
	ts.Source = fmt.Sprintf("seqcast backtest: %d training rows", rows)
	if s.Dates != nil {
		ts.Source += fmt.Sprintf(" (%s .. %s, targets to %s)", s.Dates[0].Format(s.DateLayout), s.Dates[rows-1].Format(s.DateLayout), s.Dates[end-1].Format(s.DateLayout))
	}
	return ts.Marshal()
}

// importTrainingStats computes training_stats.json for a model of input
// shape (T, F), or (S, T, F) served on windows of S*T steps, from a CSV of
// its training data: every row's columns (cols, comma-separated; default
// the only column besides the dates).
func importTrainingStats(b *bundle.Bundle, in []int, csvPath, cols string) ([]byte, error) {
	steps, features, err := serving.WindowShape(in)
	if err != nil {
		return nil, err
	}
	var o backtest.CSVOptions
	if cols != "" {
		for _, c := range strings.Split(cols, ",") {
			o.Columns = append(o.Columns, strings.TrimSpace(c))
		}
		o.Target = o.Columns[0]
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	s, err := backtest.ReadCSV(f, o)
	f.Close()
	if err != nil {
		return nil, err
	}
	if len(s.Columns) != features {
		return nil, fmt.Errorf("the model takes %d feature(s) per time step; the CSV gives %d (%s): name them with --train-columns", features, len(s.Columns), strings.Join(s.Columns, ", "))
	}
	sc, _ := b.File(serving.ScalerFile)
	ts, err := serving.ComputeTrainingStats(s.X, steps, s.Columns, serving.WindowRelative(sc))
	if err != nil {
		return nil, err
	}
	ts.Source = fmt.Sprintf("seqcast import --train-csv %s: %d rows", filepath.Base(csvPath), s.Len())
	return ts.Marshal()
}
