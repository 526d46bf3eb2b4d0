package gitlab

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Webhook verifies and parses the deliveries of one GitLab provider. It
// accepts a delivery signed with the signing token (webhook-signature,
// Standard Webhooks style) when one is configured and the delivery carries
// a signature, else one whose X-Gitlab-Token equals the secret token.
type Webhook struct {
	token   string
	signing string
	now     func() time.Time
}

// NewWebhook creates a receiver; either secret may be empty, not both.
func NewWebhook(token, signingToken string) *Webhook {
	return &Webhook{token: token, signing: signingToken, now: time.Now}
}

// Receive implements the webhook handler's Receiver. The delivery id is
// Idempotency-Key (stable across GitLab's retries), else
// X-Gitlab-Event-UUID.
func (w *Webhook) Receive(h http.Header, body []byte) (string, providers.Event, error) {
	id := h.Get("Idempotency-Key")
	if id == "" {
		id = h.Get("X-Gitlab-Event-UUID")
	}
	var err error
	switch sig := h.Get("webhook-signature"); {
	case w.signing != "" && sig != "":
		err = VerifySigned(w.signing, h.Get("webhook-id"), h.Get("webhook-timestamp"), sig, body, w.now())
	case w.token != "":
		err = VerifyToken(w.token, h.Get("X-Gitlab-Token"))
	default:
		err = fmt.Errorf("delivery carries no webhook-signature: %w", providers.ErrBadSignature)
	}
	if err != nil {
		return id, providers.Event{}, err
	}
	ev, err := ParseWebhook(h.Get("X-Gitlab-Event"), body)
	return id, ev, err
}
