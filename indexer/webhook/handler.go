// Package webhook receives Git server webhooks and turns them into targeted
// syncs.
//
// A delivery is a verified hint, never the source of truth: the handler
// verifies it before reading it, parses it, deduplicates it by delivery id,
// persists it in the bbolt queue and answers 202 at once (GitHub gives up
// after 10 s). A worker then runs a targeted sync through the normal listing
// path, so a lost, duplicated or out-of-order delivery can never corrupt or
// lose anything, and an accepted delivery survives a crash.
package webhook

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// MaxBody is the largest delivery accepted (GitHub caps payloads at 25 MB).
const MaxBody = 25 << 20

// DefaultRetention is how long delivery ids are remembered for
// deduplication (GitHub lets deliveries be redelivered for 3 days).
const DefaultRetention = 72 * time.Hour

// Receiver verifies and parses one provider's deliveries.
type Receiver interface {
	// Receive verifies the request (headers and raw body) and parses it.
	// Errors wrap providers.ErrBadSignature, ErrBadPayload or ErrIgnored.
	// deliveryID identifies the delivery for deduplication ("" if the
	// provider sent none).
	Receive(h http.Header, body []byte) (deliveryID string, ev providers.Event, err error)
}

// Result names what happened to a delivery (logs and metrics).
type Result string

// Delivery results.
const (
	ResultQueued       Result = "queued"
	ResultDuplicate    Result = "duplicate"
	ResultIgnored      Result = "ignored"
	ResultBadSignature Result = "bad_signature"
	ResultBadPayload   Result = "bad_payload"
	ResultTooLarge     Result = "too_large"
	ResultUnknown      Result = "unknown_provider"
	ResultError        Result = "error"
)

// Handler is the HTTP endpoint POST /webhooks/{provider}.
type Handler struct {
	store     Inbox
	receivers map[string]Receiver
	log       *slog.Logger
	notify    chan<- struct{}
	retention time.Duration
	now       func() time.Time
	// Observe, if set, is called once per delivery (metrics).
	Observe func(provider string, r Result, d time.Duration)
}

// Inbox keeps accepted deliveries until the worker has processed them,
// deduplicated by delivery id.
type Inbox interface {
	// Enqueue stores d unless a delivery with its id was seen within
	// retention (fresh is false then).
	Enqueue(d state.Delivery, retention time.Duration) (seq uint64, fresh bool, err error)
}

// NewHandler creates the handler. notify is signalled (without blocking)
// when a delivery is queued.
func NewHandler(store Inbox, receivers map[string]Receiver, notify chan<- struct{}, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{store: store, receivers: receivers, log: log, notify: notify, retention: DefaultRetention, now: time.Now}
}

// Route registers the handler on r.
func (h *Handler) Route(r *mux.Router) {
	r.Handle("/webhooks/{provider}", h).Methods(http.MethodPost)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	name := mux.Vars(r)["provider"]
	res, status, msg := h.handle(name, r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
	if h.Observe != nil {
		h.Observe(name, res, h.now().Sub(start))
	}
}

func (h *Handler) handle(name string, r *http.Request) (Result, int, string) {
	recv, ok := h.receivers[name]
	if !ok {
		return ResultUnknown, http.StatusNotFound, "no webhook receiver for this provider"
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.Warn("webhook rejected: body too large", "provider", name, "limit_bytes", MaxBody)
			return ResultTooLarge, http.StatusRequestEntityTooLarge, "payload too large"
		}
		return ResultBadPayload, http.StatusBadRequest, "cannot read body"
	}
	id, ev, err := recv.Receive(r.Header, body)
	switch {
	case errors.Is(err, providers.ErrBadSignature):
		h.log.Warn("webhook rejected: signature does not verify", "provider", name, "remote", r.RemoteAddr)
		return ResultBadSignature, http.StatusUnauthorized, "signature does not verify"
	case errors.Is(err, providers.ErrIgnored):
		h.log.Debug("webhook ignored", "provider", name, "delivery", id, "reason", err)
		return ResultIgnored, http.StatusAccepted, "ignored"
	case err != nil:
		h.log.Warn("webhook rejected: bad payload", "provider", name, "delivery", id, "err", err)
		return ResultBadPayload, http.StatusBadRequest, "invalid payload"
	}
	if ev.Kind == providers.EventPing {
		return ResultIgnored, http.StatusOK, "pong"
	}
	_, fresh, err := h.store.Enqueue(state.Delivery{Provider: name, ID: id, Event: ev, ReceivedAt: h.now()}, h.retention)
	if err != nil {
		h.log.Error("webhook not persisted", "provider", name, "delivery", id, "err", err)
		return ResultError, http.StatusServiceUnavailable, "cannot persist delivery; retry later"
	}
	if !fresh {
		h.log.Debug("webhook redelivery acknowledged", "provider", name, "delivery", id)
		return ResultDuplicate, http.StatusOK, "duplicate delivery"
	}
	select {
	case h.notify <- struct{}{}:
	default:
	}
	h.log.Debug("webhook queued", "provider", name, "delivery", id, "kind", ev.Kind, "repo", ev.Repo.FullName, "ref", ev.Ref)
	return ResultQueued, http.StatusAccepted, "queued"
}
