package github

import (
	"crypto/rsa"
	"sync"

	jwt "github.com/golang-jwt/jwt/v4"
)

// keySigner signs App JWTs with the App's current private key: when a key
// source is set, a changed PEM is parsed at the next JWT (a rotated key
// file); one that does not parse keeps the last good key in use.
type keySigner struct {
	source func() string

	mu  sync.Mutex
	pem string
	key *rsa.PrivateKey
}

func newKeySigner(pem []byte, key *rsa.PrivateKey, source func() string) *keySigner {
	return &keySigner{source: source, pem: string(pem), key: key}
}

// current returns the key to sign with.
func (s *keySigner) current() *rsa.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.source != nil {
		if pem := s.source(); pem != "" && pem != s.pem {
			if k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pem)); err == nil {
				s.key = k
			}
			s.pem = pem // a bad PEM is not parsed again until it changes
		}
	}
	return s.key
}

// Sign implements ghinstallation.Signer.
func (s *keySigner) Sign(claims jwt.Claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.current())
}
