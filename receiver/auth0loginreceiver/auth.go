package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// secretMatcher checks the Authorization header against the configured
// secret without leaking it through timing: both sides are hashed to a fixed
// length first, because subtle.ConstantTimeCompare returns early on a length
// mismatch, and both accepted forms are always compared.
type secretMatcher struct {
	sum [sha256.Size]byte
}

func newSecretMatcher(secret string) *secretMatcher {
	return &secretMatcher{sum: sha256.Sum256([]byte(secret))}
}

// matches accepts the secret verbatim (Auth0 log streams send the configured
// token as the whole header value) or as "Bearer <secret>" (what users often
// type into that field, and what the Action sends).
func (m *secretMatcher) matches(header string) bool {
	verbatim := sha256.Sum256([]byte(header))
	token := header
	if len(header) > len("Bearer ") && strings.EqualFold(header[:len("Bearer ")], "Bearer ") {
		token = strings.TrimLeft(header[len("Bearer "):], " ")
	}
	bearer := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(verbatim[:], m.sum[:])|subtle.ConstantTimeCompare(bearer[:], m.sum[:]) == 1
}
