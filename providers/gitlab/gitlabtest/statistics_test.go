package gitlabtest_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// TestProjectStatistics: statistics=true adds GitLab's statistics object
// (the shape of the projects.md example) whose commit_count is the
// default branch's number of commits; without it there is none.
func TestProjectStatistics(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{})
	ignore := slices.DeleteFunc(slices.Clone(projectOnly), func(f string) bool { return f == "statistics" })
	want := fakeserver.First(fakeserver.LoadJSON(t, "testdata/docs-projects.get.json"))
	got := fakeserver.First(get(t, s, "projects/1000?statistics=true").MustJSON(t))
	for _, d := range fakeserver.ShapeDiff(want, got, ignore) {
		t.Error(d)
	}
	var p struct {
		Statistics *struct {
			CommitCount int `json:"commit_count"`
		} `json:"statistics"`
	}
	get(t, s, "projects/1000?statistics=true").Decode(t, &p)
	var log []map[string]any
	for page := 1; ; page++ {
		var items []map[string]any
		r := get(t, s, "projects/1000/repository/commits?per_page=100&page="+strconv.Itoa(page))
		r.Decode(t, &items)
		log = append(log, items...)
		if len(items) < 100 {
			break
		}
	}
	if p.Statistics == nil || p.Statistics.CommitCount != len(log) || len(log) < 100 {
		t.Errorf("statistics = %+v, the default branch lists %d commits", p.Statistics, len(log))
	}
	p.Statistics = nil
	get(t, s, "projects/1000").Decode(t, &p)
	if p.Statistics != nil {
		t.Errorf("statistics sent unasked: %+v", p.Statistics)
	}
}
