package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

// TestWebhookSourceRotation: each delivery is verified with the secret
// current at that moment.
func TestWebhookSourceRotation(t *testing.T) {
	secret := "first-secret"
	w := NewWebhookSource(func() string { return secret })
	body := []byte(`{"zen":"x","hook_id":1}`)
	sign := func(key string) http.Header {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(m.Sum(nil))},
			"X-Github-Event": {"ping"}, "Content-Type": {"application/json"}}
	}
	if _, _, err := w.Receive(sign("first-secret"), body); err != nil {
		t.Fatalf("first secret: %v", err)
	}
	secret = "second-secret"
	if _, _, err := w.Receive(sign("first-secret"), body); !errors.Is(err, providers.ErrBadSignature) {
		t.Errorf("old secret after rotation: %v, want ErrBadSignature", err)
	}
	if _, _, err := w.Receive(sign("second-secret"), body); err != nil {
		t.Errorf("new secret: %v", err)
	}
}
