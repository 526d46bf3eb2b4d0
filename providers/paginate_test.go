package providers

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// list is a paged list with ETags that change with its content.
type list struct {
	items []int
	calls []string
}

func (l *list) fetch(perPage int) PageFunc[int] {
	return func(n int, etag string) (Page[int], error) {
		lo, hi := (n-1)*perPage, min(n*perPage, len(l.items))
		var items []int
		if lo < len(l.items) {
			items = l.items[lo:hi]
		}
		tag := fmt.Sprintf("%v", items)
		l.calls = append(l.calls, fmt.Sprintf("%d:%s", n, etag))
		if etag != "" && etag == tag {
			return Page[int]{NotModified: true}, nil
		}
		return Page[int]{Items: items, ETag: tag, Next: hi < len(l.items)}, nil
	}
}

func TestListAllConditional(t *testing.T) {
	l := &list{items: []int{1, 2, 3, 4}} // two full pages of 2
	got, err := ListAll(l.fetch(2), ListState{}, 2)
	if err != nil || !slices.Equal(got.Items, l.items) || len(got.State.ETags) != 3 {
		t.Fatalf("first listing: %+v, %v (want 2 pages + the probe of the empty third)", got, err)
	}
	l.calls = nil
	again, _ := ListAll(l.fetch(2), got.State, 2)
	if !again.Unchanged || len(l.calls) != 3 {
		t.Errorf("unchanged list: %+v after calls %v", again, l.calls)
	}
	l.items = append(l.items, 5) // lands on the probed page only
	changed, _ := ListAll(l.fetch(2), got.State, 2)
	if changed.Unchanged || !slices.Equal(changed.Items, l.items) {
		t.Errorf("an item on a new page was missed: %+v", changed)
	}
	boom := errors.New("boom")
	if _, err := ListAll(func(int, string) (Page[int], error) { return Page[int]{}, boom }, got.State, 2); !errors.Is(err, boom) {
		t.Errorf("error not returned: %v", err)
	}
}

func TestStreamStopsAndIsConditional(t *testing.T) {
	l := &list{items: []int{9, 8, 7, 6, 5}}
	var seen []int
	etag, nm, err := Stream(l.fetch(2), "", func(i int) (bool, error) {
		seen = append(seen, i)
		return i == 7, nil
	})
	if err != nil || nm || !slices.Equal(seen, []int{9, 8, 7}) || len(l.calls) != 2 || etag != "[9 8]" {
		t.Fatalf("stream: seen %v, calls %v, etag %q, %v", seen, l.calls, etag, err)
	}
	_, nm, _ = Stream(l.fetch(2), etag, func(int) (bool, error) { t.Error("called on 304"); return true, nil })
	if !nm {
		t.Error("first page not conditional")
	}
}

func TestStatusError(t *testing.T) {
	for status, want := range map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 410: ErrNotFound, 429: ErrRateLimited} {
		err := &APIError{Provider: "gh", Op: "GET x", Status: status, Err: StatusError(status, "server says")}
		if !errors.Is(err, want) || err.Error() != fmt.Sprintf("gh: GET x: HTTP %d: %v: server says", status, want) {
			t.Errorf("%d: %v", status, err)
		}
	}
	err := StatusError(502, "")
	for _, s := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited} {
		if errors.Is(err, s) {
			t.Errorf("502 classified as %v", s)
		}
	}
	if err.Error() != "provider API error: Bad Gateway" {
		t.Errorf("502: %q", err)
	}
}
