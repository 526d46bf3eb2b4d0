package redact

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// commit is the part of a corpus record the tests use.
type commit struct {
	SHA     string `json:"sha"`
	Message string `json:"message"`
}

// loadCorpus reads the Apache ZooKeeper commit messages (see
// testdata/README.md).
func loadCorpus(t testing.TB) []commit {
	t.Helper()
	f, err := os.Open("testdata/zookeeper-commits.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []commit
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c commit
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpusHasNoFindings runs every rule over the full messages of 5,343
// real commits (more text than jiralinkd ever writes: titles carry only
// the first line). None holds a credential, so any finding is a false
// positive that would deface a Jira link.
func TestCorpusHasNoFindings(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) != 5343 {
		t.Fatalf("%d commits in the corpus, want 5343", len(corpus))
	}
	r := newRedactor(t)
	// Shared by all CPUs: the Redactor is meant for concurrent use, and
	// this keeps the test fast under the race detector.
	workers := runtime.GOMAXPROCS(0)
	problems := make([][]string, workers)
	keyworded := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(corpus); i += workers {
				c := corpus[i]
				if r.pre.active(c.Message) != nil {
					keyworded[w]++
				}
				got, fs := r.Redact(c.Message)
				for _, f := range fs {
					// Rule and position only: never print what was found.
					problems[w] = append(problems[w], fmt.Sprintf("commit %s: rule %s fired at bytes %d-%d", c.SHA, f.Rule, f.Start, f.End))
				}
				if len(fs) == 0 && got != c.Message {
					problems[w] = append(problems[w], fmt.Sprintf("commit %s: message changed without a finding", c.SHA))
				}
			}
		}()
	}
	wg.Wait()
	withKeywords := 0
	for w := range workers {
		for _, p := range problems[w] {
			t.Error(p)
		}
		withKeywords += keyworded[w]
	}
	// The corpus does exercise the rules: keywords such as "password",
	// "://", "jira" and "ey" send about 3,300 messages through regexps.
	if withKeywords < 3000 {
		t.Errorf("only %d messages contain a keyword; the corpus test would prove little", withKeywords)
	}
}

// BenchmarkRedactMessage is the cost per full commit message of the corpus
// (about 370 bytes on average; most contain some keyword).
func BenchmarkRedactMessage(b *testing.B) {
	corpus := loadCorpus(b)
	r := newRedactor(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Redact(corpus[i%len(corpus)].Message)
	}
}

// BenchmarkRedactTitle is the cost per link title as jiralinkd writes it
// for a commit: short SHA and the message's first line.
func BenchmarkRedactTitle(b *testing.B) {
	corpus := loadCorpus(b)
	titles := make([]string, len(corpus))
	for i, c := range corpus {
		first, _, _ := strings.Cut(c.Message, "\n")
		titles[i] = c.SHA[:7] + " " + first
	}
	r := newRedactor(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Redact(titles[i%len(titles)])
	}
}
