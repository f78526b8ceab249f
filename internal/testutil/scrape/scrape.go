// Package scrape fetches a Prometheus /metrics endpoint in tests and reads values from it
// with the Prometheus text parser, so tests assert on parsed samples, not on text layout.
package scrape

import (
	"maps"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Get scrapes url and parses the text exposition format; a status other than 200 or an
// unparsable body fails the test.
func Get(t testing.TB, url string) Families {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test against a loopback server
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: parse: %v", url, err)
	}
	return fams
}

// Type returns the family's type ("COUNTER", "GAUGE", "HISTOGRAM", ...), "" when absent.
func (f Families) Type(name string) string {
	if mf := f[name]; mf != nil {
		return mf.GetType().String()
	}
	return ""
}

// Value returns the value of the sample of name whose labels are exactly labels: a
// counter's or gauge's value, a histogram's sample count. ok is false when there is none.
func (f Families) Value(name string, labels map[string]string) (v float64, ok bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// Histogram returns the histogram sample of name without labels: cumulative counts by
// upper bound, the sum and the count; ok is false when there is none.
func (f Families) Histogram(name string) (buckets map[float64]uint64, sum float64, count uint64, ok bool) {
	mf := f[name]
	if mf == nil || len(mf.GetMetric()) != 1 || mf.GetMetric()[0].Histogram == nil {
		return nil, 0, 0, false
	}
	h := mf.GetMetric()[0].GetHistogram()
	buckets = map[float64]uint64{}
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return buckets, h.GetSampleSum(), h.GetSampleCount(), true
}
