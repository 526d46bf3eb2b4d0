package githubtest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

const (
	defaultPerPage = 30
	maxPerPage     = 100
)

// paginate cuts items to the requested page (page, per_page: default 30,
// at most 100) and returns the Link header GitHub would send, "" when every
// item fits on page 1.
//
// The format is GitHub's, as recorded in testdata/octokit-paginate-issues:
// absolute URLs on linkBase (GitHub addresses repository lists by id,
// /repositories/{id}/...), the request's own query with page moved to the
// end, and the relations in the order prev, next, last, first — the first
// page has no prev/first, the last page no next/last.
func paginate[T any](c *call, items []T, linkBase string) ([]T, string) {
	q := c.r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 {
		perPage = defaultPerPage
	}
	perPage = min(perPage, maxPerPage)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := max(1, (len(items)+perPage-1)/perPage)

	var out []T
	if start := (page - 1) * perPage; start < len(items) {
		out = items[start:min(start+perPage, len(items))]
	}

	// The query as sent, minus page, keeps the client's parameter order.
	var keep []string
	for _, kv := range strings.Split(c.r.URL.RawQuery, "&") {
		if kv == "" || kv == "page" || strings.HasPrefix(kv, "page=") {
			continue
		}
		keep = append(keep, kv)
	}
	link := func(p int, rel string) string {
		qs := strings.Join(append(keep[:len(keep):len(keep)], "page="+strconv.Itoa(p)), "&")
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, linkBase, qs, rel)
	}
	var rels []string
	if page > 1 {
		rels = append(rels, link(page-1, "prev"))
	}
	if page < last {
		rels = append(rels, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		rels = append(rels, link(1, "first"))
	}
	return out, strings.Join(rels, ", ")
}

// listResponse is a 200 with a JSON array body and the Link header.
func listResponse[T any](items []T, link string) response {
	if items == nil {
		items = []T{}
	}
	resp := fakeserver.JSON(200, items)
	if link != "" {
		resp.Header = map[string][]string{"Link": {link}}
	}
	return resp
}
