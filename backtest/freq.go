package backtest

import (
	"fmt"
	"slices"
	"time"
)

// Frequency is a series' sampling frequency, inferred from its dates.
type Frequency struct {
	// Name is "business days", "daily", "weekly", "monthly", "quarterly",
	// "yearly", "every 1h0m0s" (a fixed step), or "irregular".
	Name string
	// Step is the fixed step (zero for business days and calendar months).
	Step time.Duration
	kind freqKind
}

type freqKind int

const (
	irregular freqKind = iota
	fixed
	businessDays
	months // Step months per period, in calendar months
)

// monthsPer is the calendar months of a monthly, quarterly or yearly step.
func (f Frequency) monthsPer() int {
	switch f.Name {
	case "quarterly":
		return 3
	case "yearly":
		return 12
	}
	return 1
}

// InferFrequency infers the frequency of ascending dates from the most
// common step between two rows: one day with no row on a Saturday or a
// Sunday is business days (market data: weekends are not gaps); 28 to 31
// days monthly, 89 to 92 quarterly, 365 or 366 yearly; any other common
// step is a fixed step. It is "irregular" when fewer than half the steps
// are that common step or one step apart by the calendar.
func InferFrequency(dates []time.Time) Frequency {
	if len(dates) < 3 {
		return Frequency{Name: "irregular"}
	}
	count := map[time.Duration]int{}
	weekend := false
	for i := range dates {
		if wd := dates[i].Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend = true
		}
		if i > 0 {
			count[dates[i].Sub(dates[i-1])]++
		}
	}
	var mode time.Duration
	for d, c := range count {
		if c > count[mode] || c == count[mode] && d < mode {
			mode = d
		}
	}
	const day = 24 * time.Hour
	var f Frequency
	switch {
	case mode == day && !weekend:
		f = Frequency{Name: "business days", kind: businessDays}
	case mode >= 28*day && mode <= 31*day:
		f = Frequency{Name: "monthly", kind: months}
	case mode >= 89*day && mode <= 92*day:
		f = Frequency{Name: "quarterly", kind: months}
	case mode == 365*day || mode == 366*day:
		f = Frequency{Name: "yearly", kind: months}
	case mode == day:
		f = Frequency{Name: "daily", Step: day, kind: fixed}
	case mode == 7*day:
		f = Frequency{Name: "weekly", Step: 7 * day, kind: fixed}
	default:
		f = Frequency{Name: "every " + mode.String(), Step: mode, kind: fixed}
	}
	regular := 0
	for i := 1; i < len(dates); i++ {
		if f.periods(dates[i-1], dates[i]) == 1 {
			regular++
		}
	}
	if 2*regular < len(dates)-1 {
		return Frequency{Name: "irregular"}
	}
	return f
}

// periods is how many periods of f lie between a and b (1: consecutive).
// It is -1 when b is not a whole number of periods after a.
func (f Frequency) periods(a, b time.Time) int {
	switch f.kind {
	case fixed:
		d := b.Sub(a)
		if d%f.Step != 0 {
			return -1
		}
		return int(d / f.Step)
	case businessDays:
		if a.Hour() != b.Hour() || a.Minute() != b.Minute() {
			return -1
		}
		n := 0
		for t := a.AddDate(0, 0, 1); !t.After(b); t = t.AddDate(0, 0, 1) {
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
				n++
			}
			if n > 1<<20 {
				break
			}
		}
		return n
	case months:
		m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
		k := f.monthsPer()
		if m%k != 0 {
			return -1
		}
		return m / k
	}
	return -1
}

// Gap is a stretch of missing periods between two consecutive rows.
type Gap struct {
	After, Before time.Time // the rows on either side
	Row           int       // the index of the row after the gap
	Missing       int       // periods missing (-1: not a whole number of periods)
}

// MaxHole is the most periods that may be missing between two rows without
// a gap: a holiday (a market closed for Good Friday and Easter Monday, or
// over Christmas), a missed reading. More is a gap.
const MaxHole = 4

// Gaps lists where the dates skip more than MaxHole periods of f (or are
// not a whole number of periods apart), and counts the holes (1 to MaxHole
// periods missing). An irregular series has neither.
func (f Frequency) Gaps(dates []time.Time) (gaps []Gap, holes int) {
	if f.kind == irregular {
		return nil, 0
	}
	for i := 1; i < len(dates); i++ {
		switch n := f.periods(dates[i-1], dates[i]); {
		case n == 1:
		case n >= 2 && n-1 <= MaxHole:
			holes++
		default:
			m := n - 1
			if n < 0 {
				m = -1
			}
			gaps = append(gaps, Gap{After: dates[i-1], Before: dates[i], Row: i, Missing: m})
		}
	}
	return gaps, holes
}

// String describes the gap for a person.
func (g Gap) String(layout string) string {
	if g.Missing < 0 {
		return fmt.Sprintf("%s to %s (not a whole number of periods)", g.After.Format(layout), g.Before.Format(layout))
	}
	return fmt.Sprintf("%s to %s (%d periods missing)", g.After.Format(layout), g.Before.Format(layout), g.Missing)
}

// spansGap reports whether rows lo..hi (inclusive) cross a gap.
func spansGap(gaps []Gap, lo, hi int) bool {
	i, _ := slices.BinarySearchFunc(gaps, lo+1, func(g Gap, r int) int { return g.Row - r })
	return i < len(gaps) && gaps[i].Row <= hi
}
