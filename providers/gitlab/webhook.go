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
	token   func() string
	signing func() string
	now     func() time.Time
}

// NewWebhookSource creates a receiver that verifies each delivery with the
// secrets current at that moment (rotated secret files); either function
// may return "", not both.
func NewWebhookSource(token, signingToken func() string) *Webhook {
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
	token, signing := w.token(), w.signing()
	switch sig := h.Get("webhook-signature"); {
	case signing != "" && sig != "":
		err = VerifySigned(signing, h.Get("webhook-id"), h.Get("webhook-timestamp"), sig, body, w.now())
	case token != "":
		err = VerifyToken(token, h.Get("X-Gitlab-Token"))
	default:
		err = fmt.Errorf("delivery carries no webhook-signature: %w", providers.ErrBadSignature)
	}
	if err != nil {
		return id, providers.Event{}, err
	}
	ev, err := ParseWebhook(h.Get("X-Gitlab-Event"), body)
	return id, ev, err
}
