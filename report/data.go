// Package report turns Deskbot's run history into statistics, charts and
// exported reports (PDF, HTML, XLSX, CSV). Collect reads the numbers from
// the store with SQL aggregation; the renderers draw and write them. The
// package never imports fyne: the studio's Insights tab shows what it draws.
package report

import "time"

// Filter selects the runs a report covers. Zero values mean "no limit".
type Filter struct {
	Flow string    // flow name; "" for every flow
	From time.Time // inclusive
	To   time.Time // exclusive
}

// Data is everything a report shows. Collect fills it from the store;
// tests build it by hand.
type Data struct {
	Title     string
	Filter    Filter
	Generated time.Time

	Summary    Summary
	Days       []Day          // runs per day, stacked by status; every day in the range, oldest first
	Durations  []Bucket       // histogram of run durations
	Activities []ActivityTime // time per activity type, largest total first
	NodeFails  []NodeFailures // failures by node, most first
	Failures   []Failure      // the most recent failed runs, newest first, with their screenshot if any
	Models     []ModelStats   // per text-generation provider and model
	Speed      []SpeedPoint   // tokens per second over time, by model
	Compare    []Comparison   // the same prompts under two models or parameter settings
}

// Summary is the headline of a report.
type Summary struct {
	Runs, Succeeded, Failed, Stopped int
	SuccessRate                      float64 // 0..1; 0 when there are no runs
	P50, P90, Max                    time.Duration
	Items                            int // loop iterations (for-each items processed)
	Steps                            int
	Generations                      int
	Tokens                           int
}

// Day counts the runs that started on one calendar day (local time).
type Day struct {
	Day      time.Time // midnight
	ByStatus map[string]int
}

// Bucket is one bar of a histogram: runs whose duration is in [Lo, Hi).
type Bucket struct {
	Lo, Hi time.Duration
	Count  int
}

// ActivityTime is the time spent in one activity type.
type ActivityTime struct {
	Type  string
	Steps int
	Total time.Duration
	Mean  time.Duration
}

// NodeFailures counts the failed steps of one node, with its most common error.
type NodeFailures struct {
	Flow, Node, Label, Type string
	Count                   int
	Error                   string // the most frequent error text
}

// Failure is one failed run.
type Failure struct {
	RunID, Flow, Node, Label string
	Start                    time.Time
	Error                    string
	Screenshot               string // a PNG file's path, or ""
}

// ModelStats sums the generations of one provider and model.
type ModelStats struct {
	Provider, Model  string
	Count, Errors    int
	PromptTokens     int
	OutputTokens     int
	TokensPerSecond  float64 // mean over successful generations
	FirstToken       time.Duration
	MeanOutputTokens float64
	MeanOutputRunes  float64
}

// SpeedPoint is one generation's speed, for the tokens-per-second chart.
type SpeedPoint struct {
	Time            time.Time
	Model           string
	TokensPerSecond float64
}

// Comparison sets two variants (models, or one model under two parameter
// settings) side by side over the prompts both were given.
type Comparison struct {
	A, B    Variant
	Prompts int // prompts both variants answered
}

// Variant is one side of a Comparison.
type Variant struct {
	Provider, Model  string
	Params           string // the parameters as JSON, "" when models differ
	Count, Errors    int
	TokensPerSecond  float64
	MeanOutputTokens float64
}
