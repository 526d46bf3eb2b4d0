package gitlabtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

const (
	defaultPerPage = 20
	maxPerPage     = 100
	// maxCountLimit is Kaminari's MAX_COUNT_LIMIT: GitLab stops counting
	// a list above it.
	maxCountLimit = 10_000
)

// countMode says which totals a list reports.
type countMode int

const (
	// countUpTo10k is GitLab's ActiveRecord lists (projects, groups, merge
	// requests): totals unless the list has more than 10,000 rows.
	countUpTo10k countMode = iota
	// countAlways is the Gitaly lists (branches, tags): always counted.
	countAlways
	// countNever is the commit list: never counted, and a next page is
	// announced whenever a page is full.
	countNever
)

// paginate cuts items to the requested page and returns GitLab's offset
// pagination headers (Gitlab::Pagination::OffsetHeaderBuilder):
//
//   - X-Page, X-Per-Page, X-Next-Page and X-Prev-Page (empty when there is
//     none), X-Total and X-Total-Pages unless the list is not counted;
//   - Link with rel prev and next when they exist, first always, and last
//     unless the list is not counted. The URLs are the request's with its
//     query parameters plus the route's id (Grape's params), page and
//     per_page, sorted by name as Rails' to_query sorts them.
//
// page defaults to 1, per_page to 20 and is at most 100; a value that is
// not an integer is answered 400 like Grape's validation does. A page past
// the end is empty and, as Kaminari's out_of_range, has neither prev nor
// next.
func paginate[T any](c *call, items []T, mode countMode) ([]T, http.Header, *response) {
	q := c.r.URL.Query()
	page, perPage := 1, defaultPerPage
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			r := errorResponse(http.StatusBadRequest, "page is invalid")
			return nil, nil, &r
		}
		page = max(1, n)
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			r := errorResponse(http.StatusBadRequest, "per_page is invalid")
			return nil, nil, &r
		}
		if n > 0 {
			perPage = min(n, maxPerPage)
		}
	}

	total := len(items)
	var out []T
	if lo := (page - 1) * perPage; lo < total {
		out = items[lo:min(lo+perPage, total)]
	}
	counted := mode == countAlways || (mode == countUpTo10k && total <= maxCountLimit)
	totalPages := max(1, (total+perPage-1)/perPage)

	next, prev := 0, 0
	switch {
	case mode == countNever:
		if len(out) == perPage {
			next = page + 1
		}
		if page > 1 {
			prev = page - 1
		}
	case len(out) == 0 && page > 1:
		// out of range: no neighbours
	default:
		if page*perPage < total {
			next = page + 1
		}
		if page > 1 {
			prev = page - 1
		}
	}

	h := http.Header{}
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Next-Page", pageOrEmpty(next))
	h.Set("X-Prev-Page", pageOrEmpty(prev))
	var links []string
	if prev > 0 {
		links = append(links, fmt.Sprintf(`<%s>; rel="prev"`, pageURL(c, prev, perPage)))
	}
	if next > 0 {
		links = append(links, fmt.Sprintf(`<%s>; rel="next"`, pageURL(c, next, perPage)))
	}
	links = append(links, fmt.Sprintf(`<%s>; rel="first"`, pageURL(c, 1, perPage)))
	if counted {
		links = append(links, fmt.Sprintf(`<%s>; rel="last"`, pageURL(c, totalPages, perPage)))
	}
	h.Set("Link", strings.Join(links, ", "))
	if counted {
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(totalPages))
	}
	return out, h, nil
}

func pageOrEmpty(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// pageURL is the request's URL for another page.
func pageURL(c *call, page, perPage int) string {
	q := c.r.URL.Query()
	for k, v := range q {
		if len(v) > 1 && !strings.HasSuffix(k, "[]") {
			q[k] = v[len(v)-1:] // Grape keeps the last value
		}
	}
	if id, ok := c.params["id"]; ok {
		q.Set("id", id)
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return c.origin + c.r.URL.EscapedPath() + "?" + q.Encode()
}

// listResponse is a 200 with a JSON array body and the pagination headers.
func listResponse[T any](items []T, header http.Header) response {
	if items == nil {
		items = []T{}
	}
	resp := jsonResponse(http.StatusOK, items)
	for k, v := range header {
		resp.Header[k] = v
	}
	return resp
}
