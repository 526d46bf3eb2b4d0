package github

import (
	"net/http"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Webhook verifies and parses the deliveries of one GitHub provider: the
// X-Hub-Signature-256 HMAC over the raw body first, then the payload.
type Webhook struct {
	secret func() string
}

// NewWebhook creates a receiver for deliveries signed with secret.
func NewWebhook(secret string) *Webhook {
	return &Webhook{secret: func() string { return secret }}
}

// NewWebhookSource creates a receiver that verifies each delivery with the
// secret current at that moment (a rotated secret file).
func NewWebhookSource(secret func() string) *Webhook { return &Webhook{secret: secret} }

// Receive implements the webhook handler's Receiver. The delivery id is
// X-GitHub-Delivery, which GitHub keeps when it redelivers.
func (w *Webhook) Receive(h http.Header, body []byte) (string, providers.Event, error) {
	id := h.Get("X-GitHub-Delivery")
	if err := VerifySignature([]byte(w.secret()), body, h.Get("X-Hub-Signature-256")); err != nil {
		return id, providers.Event{}, err
	}
	payload, err := WebhookPayload(h.Get("Content-Type"), body)
	if err != nil {
		return id, providers.Event{}, err
	}
	ev, err := ParseWebhook(h.Get("X-GitHub-Event"), payload)
	return id, ev, err
}
