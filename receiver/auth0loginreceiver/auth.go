// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// secretMatcher checks the Authorization header against the configured
// secrets without leaking them through timing: both sides are hashed to a
// fixed length first, because subtle.ConstantTimeCompare returns early on a
// length mismatch, and every secret is compared in both accepted forms,
// whichever matches, so that the time taken tells nothing of which one did.
type secretMatcher struct {
	// sums are the secrets' digests, the current secret first.
	sums [][sha256.Size]byte
}

// newSecretMatcher takes the secrets, the current one first; none may be
// empty (Config.secrets drops empty ones).
func newSecretMatcher(secrets []string) *secretMatcher {
	m := &secretMatcher{sums: make([][sha256.Size]byte, len(secrets))}
	for i, s := range secrets {
		m.sums[i] = sha256.Sum256([]byte(s))
	}
	return m
}

// match returns the index of the secret the header carries (0 is the
// current secret, 1 and on the previous ones), or -1. It accepts a secret
// verbatim (Auth0 log streams send the configured token as the whole header
// value) or as "Bearer <secret>" (what users often type into that field,
// and what the Action sends).
func (m *secretMatcher) match(header string) int {
	verbatim := sha256.Sum256([]byte(header))
	token := header
	if len(header) > len("Bearer ") && strings.EqualFold(header[:len("Bearer ")], "Bearer ") {
		token = strings.TrimLeft(header[len("Bearer "):], " ")
	}
	bearer := sha256.Sum256([]byte(token))
	found := -1
	// From the last to the first, so that the first secret that matches
	// is the one reported.
	for i := len(m.sums) - 1; i >= 0; i-- {
		eq := subtle.ConstantTimeCompare(verbatim[:], m.sums[i][:]) | subtle.ConstantTimeCompare(bearer[:], m.sums[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	return found
}
