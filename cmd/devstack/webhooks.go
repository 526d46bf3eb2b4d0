package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// hookStats are the webhook figures of one jiralinkd serve.
type hookStats struct {
	latencies, acks []time.Duration
	codes           map[int]int
}

// webhookBench measures, against a real `jiralinkd serve`: the time from a
// push delivery to the link being in Jira (p50/p99), and the
// acknowledgement latency of a burst of 200 deliveries at 200/s.
func webhookBench(ctx context.Context, st *stack, bin string) (hookStats, error) {
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", st.configPath)
	cmd.Env = st.env()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return hookStats{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + st.listen
	if err := waitReady(ctx, base, &logs); err != nil {
		return hookStats{}, err
	}
	// Let the start-up pass finish (its calls stop).
	for last := -1; ; {
		time.Sleep(300 * time.Millisecond)
		n := len(st.gh.Requests())
		if n == last {
			break
		}
		last = n
	}

	master, _ := st.hist.Branch("master")
	head := master.SHA
	at := time.Now().UTC()
	var latencies []time.Duration
	for i := 0; i < 40; i++ {
		key := fmt.Sprintf("ZOOKEEPER-%d", 9000+i*10+1) // none ends in 7: all exist
		c := corpus.Commit{SHA: fmt.Sprintf("%040x", 0xbeef0000+i), Parents: []string{head}, AuthorName: "bench",
			AuthorDate: at.Add(time.Duration(i) * time.Second), CommitterDate: at.Add(time.Duration(i) * time.Second), Message: key + ": pushed during the webhook benchmark"}
		st.ghRepo.AddCommit(c)
		st.ghRepo.SetBranch("master", c.SHA)
		body := pushPayload(head, c)
		head = c.SHA
		start := time.Now()
		if code, err := deliver(base, fmt.Sprintf("lat-%d", i), body); err != nil || code != http.StatusAccepted {
			return hookStats{}, fmt.Errorf("delivery %d: status %d, %v", i, code, err)
		}
		for len(st.jira.Links(key)) == 0 {
			if time.Since(start) > 15*time.Second {
				return hookStats{}, fmt.Errorf("link on %s never appeared\n%s", key, logs.String())
			}
			time.Sleep(time.Millisecond)
		}
		latencies = append(latencies, time.Since(start))
	}

	// A burst: 200 deliveries at 200/s; they coalesce into few syncs.
	var acks []time.Duration
	codes := map[int]int{}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	body := pushPayload(head, corpus.Commit{SHA: head})
	for i := 0; i < 200; i++ {
		<-tick.C
		start := time.Now()
		code, err := deliver(base, fmt.Sprintf("burst-%d", i), body)
		if err != nil {
			return hookStats{}, err
		}
		acks = append(acks, time.Since(start))
		codes[code]++
	}
	return hookStats{latencies: latencies, acks: acks, codes: codes}, nil
}

// print writes the webhook figures of a state backend.
func (h hookStats) print(out io.Writer, backend string) {
	fmt.Fprintf(out, "\nwebhooks against jiralinkd serve, %s state (push → targeted sync → link in Jira):\n", backend)
	fmt.Fprintf(out, "  push delivery → link in Jira, 40 pushes one by one: p50 %s, p99 %s, max %s\n",
		pct(h.latencies, 50), pct(h.latencies, 99), slices.Max(h.latencies).Round(time.Microsecond))
	fmt.Fprintf(out, "  acknowledgement, burst of 200 deliveries at 200/s: p50 %s, p99 %s, max %s (statuses %v; target p99 < 50ms)\n",
		pct(h.acks, 50), pct(h.acks, 99), slices.Max(h.acks).Round(time.Microsecond), h.codes)
}

func waitReady(ctx context.Context, base string, logs fmt.Stringer) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("jiralinkd serve never became ready\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pushPayload is a push delivery shaped like GitHub's.
func pushPayload(before string, c corpus.Commit) []byte {
	b, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/master", "before": before, "after": c.SHA, "created": false, "deleted": false, "forced": false,
		"commits": []map[string]any{{"id": c.SHA, "message": c.Message, "timestamp": c.AuthorDate.Format(time.RFC3339),
			"url": "https://github.com/apache/zookeeper/commit/" + c.SHA, "distinct": true,
			"author": map[string]any{"name": "bench", "email": "bench@example.com", "username": "bench"}}},
		"repository": map[string]any{"id": 1001, "name": "zookeeper", "full_name": "apache/zookeeper",
			"html_url": "https://github.com/apache/zookeeper", "default_branch": "master", "owner": map[string]any{"login": "apache"}},
		"pusher": map[string]any{"name": "bench"}, "sender": map[string]any{"login": "bench", "id": 1},
	})
	return b
}

func deliver(base, id string, body []byte) (int, error) {
	mac := hmac.New(sha256.New, []byte(demoHookSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// pct is the p-th percentile (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(i, 0)].Round(time.Microsecond)
}
