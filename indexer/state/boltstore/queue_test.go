package boltstore

import (
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

func TestQueueDedupAckAndRestart(t *testing.T) {
	s, path := open(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := providers.Event{Kind: providers.EventPush, Repo: providers.Repo{ID: 9, FullName: "a/b"}, Ref: "main", RefType: providers.RefBranch}
	seq1, fresh, err := s.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0}, time.Hour)
	if err != nil || !fresh {
		t.Fatalf("first enqueue: fresh=%v err=%v", fresh, err)
	}
	// A redelivery within the window is acknowledged but not queued.
	if _, fresh, _ := s.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0.Add(time.Minute)}, time.Hour); fresh {
		t.Error("redelivery queued again")
	}
	// The same id from another provider is a different delivery.
	if _, fresh, _ := s.Enqueue(state.Delivery{Provider: "gitlab", ID: "d-1", Event: ev, ReceivedAt: t0}, time.Hour); !fresh {
		t.Error("id of another provider treated as duplicate")
	}
	seq3, _, _ := s.Enqueue(state.Delivery{Provider: "github", ID: "d-2", Event: ev, ReceivedAt: t0}, time.Hour)
	if n, _ := s.QueueDepth(); n != 3 {
		t.Fatalf("depth %d, want 3", n)
	}
	if err := s.Ack(seq1); err != nil {
		t.Fatal(err)
	}

	// Restart: what was accepted and not acked is still there, in order.
	s.Close()
	s2, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	p, err := s2.Pending(10)
	if err != nil || len(p) != 2 || p[0].Provider != "gitlab" || p[1].Seq != seq3 || p[1].Event.Ref != "main" || p[1].Event.Repo.ID != 9 {
		t.Fatalf("pending after restart = %+v (%v)", p, err)
	}
	// After the retention window the id may be used again; old ids are
	// forgotten.
	if _, fresh, _ := s2.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0.Add(2 * time.Hour)}, time.Hour); !fresh {
		t.Error("id past the retention window still deduplicated")
	}
	n, err := s2.ForgetDeliveries(t0.Add(90*time.Minute), time.Hour)
	if err != nil || n != 2 { // gitlab/d-1 and github/d-2 at t0; github/d-1 renewed at t0+2h
		t.Errorf("forgot %d ids (%v), want 2", n, err)
	}
}
