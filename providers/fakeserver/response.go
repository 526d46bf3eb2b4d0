package fakeserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Response is what a fake's route handler produces. The fake's pipeline
// adds its common headers, the ETag and the rate-limit accounting, then
// records the request and writes the response.
type Response struct {
	Status int
	// Header is sent over the fake's common headers; nil adds nothing.
	Header http.Header
	Body   []byte
	// Forbidden marks the request as outside the modelled metadata
	// endpoints (Request.Forbidden).
	Forbidden bool
	// Counted reports that the request counted against the rate limit
	// (Request.Counted); the pipeline sets it.
	Counted bool
}

// JSON is a response with v encoded as JSON and no headers of its own. It
// panics if v cannot be encoded: only the fakes' own types reach it.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakeserver: encode: %v", err))
	}
	return Response{Status: status, Body: b}
}

// Forbidden returns r marked Forbidden.
func Forbidden(r Response) Response {
	r.Forbidden = true
	return r
}

// DiffAccept reports whether r's Accept header asks for a diff or patch
// media type, which makes any endpoint return code.
func DiffAccept(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "diff") || strings.Contains(accept, "patch")
}

// Conditional handles If-None-Match for a 200 with a body: it gives resp
// an ETag, etag(resp.Body) unless the handler set one, and if r's
// If-None-Match matches it, answers 304 Not Modified instead, with no
// body and the ETag as its only header (Forbidden and Counted are kept).
// Any other response is returned as it is.
func Conditional(r *http.Request, resp Response, etag func(body []byte) string) Response {
	if resp.Status != http.StatusOK || resp.Body == nil {
		return resp
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if resp.Header.Get("ETag") == "" {
		resp.Header.Set("ETag", etag(resp.Body))
	}
	if !etagMatch(r.Header.Get("If-None-Match"), resp.Header.Get("ETag")) {
		return resp
	}
	h := http.Header{}
	h.Set("ETag", resp.Header.Get("ETag"))
	return Response{Status: http.StatusNotModified, Header: h, Forbidden: resp.Forbidden, Counted: resp.Counted}
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110
// 13.1.2): true if any listed tag, with or without W/, equals etag, or
// the list is "*".
func etagMatch(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" || etag == "" {
		return false
	}
	strip := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimSpace(t) == "*" || strip(t) == strip(etag) {
			return true
		}
	}
	return false
}

// Origin is scheme://host of the server as the client addressed it,
// honouring X-Forwarded-Proto.
func Origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// CleanPrefix is a path prefix as the fakes use it: "" or a path with a
// leading and no trailing slash, e.g. "api/v3/" becomes "/api/v3".
func CleanPrefix(p string) string {
	p = strings.TrimRight(p, "/")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}
