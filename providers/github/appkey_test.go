package github

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	jwt "github.com/golang-jwt/jwt/v4"
)

// TestKeySignerFollowsSource: a changed key is used for the next JWT; a
// PEM that does not parse keeps the last good key.
func TestKeySignerFollowsSource(t *testing.T) {
	gen := func() (*rsa.PrivateKey, string) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	}
	k1, pem1 := gen()
	k2, pem2 := gen()
	cur := pem1
	s := newKeySigner([]byte(pem1), k1, func() string { return cur })
	verifiedBy := func(k *rsa.PrivateKey) bool {
		tok, err := s.Sign(jwt.RegisteredClaims{Issuer: "1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return &k.PublicKey, nil })
		return err == nil
	}
	if !verifiedBy(k1) {
		t.Fatal("first key not used")
	}
	cur = pem2
	if !verifiedBy(k2) {
		t.Error("rotated key not used for the next JWT")
	}
	cur = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
	if !verifiedBy(k2) {
		t.Error("a bad PEM replaced the last good key")
	}
}
