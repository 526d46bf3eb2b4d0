package providers

// Page is one page of a list, as a provider client fetched it.
type Page[T any] struct {
	Items       []T
	ETag        string
	Next        bool // the server announced another page
	NotModified bool // a conditional request answered 304 (Items empty)
}

// PageFunc fetches page n (1-based), conditionally when etag is set.
type PageFunc[T any] func(n int, etag string) (Page[T], error)

// ListAll reads every page of a list, conditionally.
//
// With a previous state it first re-asks each known page with its ETag
// (plus the empty page after a full last page, where a new item would
// appear). If all answer 304 the list is unchanged, which costs GitHub no
// rate limit at all. Otherwise it reads the whole list again: pages shift
// when an item is added or removed, so a 304 on one page says nothing
// about what it holds now.
func ListAll[T any](fetch PageFunc[T], prev ListState, perPage int) (Listed[T], error) {
	if len(prev.ETags) > 0 {
		unchanged := true
		for i, etag := range prev.ETags {
			p, err := fetch(i+1, etag)
			if err != nil {
				return Listed[T]{}, err
			}
			if !p.NotModified {
				unchanged = false
				break
			}
		}
		if unchanged {
			return Listed[T]{State: prev, Unchanged: true}, nil
		}
	}
	var out Listed[T]
	for n := 1; ; n++ {
		p, err := fetch(n, "")
		if err != nil {
			return Listed[T]{}, err
		}
		out.Items = append(out.Items, p.Items...)
		out.State.ETags = append(out.State.ETags, p.ETag)
		if p.Next && len(p.Items) > 0 {
			continue
		}
		// A full last page: the next item added would open a new page
		// without changing this one, so remember the empty page's ETag
		// too (one extra call, only when the count is a multiple of a page).
		if len(p.Items) == perPage {
			continue
		}
		return out, nil
	}
}

// Stream reads a list page by page, calling fn for each item until fn
// returns stop or the list ends. firstETag, when set, makes the first page
// conditional: a 304 there returns notModified without calling fn. etag is
// the first page's ETag.
func Stream[T any](fetch PageFunc[T], firstETag string, fn func(T) (stop bool, err error)) (etag string, notModified bool, err error) {
	return StreamFrom(fetch, 1, firstETag, func(it T, _ int) (bool, error) { return fn(it) })
}

// StreamFrom is Stream starting at page start (≥ 1), telling fn the page
// each item is on, so a long read can be resumed where it stopped.
func StreamFrom[T any](fetch PageFunc[T], start int, firstETag string, fn func(item T, page int) (stop bool, err error)) (etag string, notModified bool, err error) {
	start = max(start, 1)
	for n := start; ; n++ {
		cond := ""
		if n == start {
			cond = firstETag
		}
		p, err := fetch(n, cond)
		if err != nil {
			return "", false, err
		}
		if p.NotModified {
			return "", true, nil
		}
		if n == start {
			etag = p.ETag
		}
		for _, it := range p.Items {
			stop, err := fn(it, n)
			if err != nil {
				return "", false, err
			}
			if stop {
				return etag, false, nil
			}
		}
		if !p.Next || len(p.Items) == 0 {
			return etag, false, nil
		}
	}
}

// Convert maps a page of SDK values to domain values (nil for none); the
// providers' convert.go files use it with their per-type converters.
func Convert[T, U any](in []T, f func(T) U) []U {
	if len(in) == 0 {
		return nil
	}
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
